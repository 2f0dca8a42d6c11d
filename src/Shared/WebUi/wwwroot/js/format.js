// Small formatting helpers shared by the views.

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'narrow' });
const dtf = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** "12s ago", "5 min. ago"; '' for none. */
export function ago(iso, now = Date.now()) {
  if (!iso) return '';
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return rtf.format(seconds, 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
  return rtf.format(Math.round(seconds / 86400), 'day');
}

/** A duration in seconds as "3h 4m", "5m 12s", "42s". */
export function span(totalSeconds) {
  const s = Math.max(0, Math.floor(totalSeconds));
  const d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (d) return `${d}d ${hr}h`;
  if (hr) return `${hr}h ${m}m`;
  if (m) return `${m}m ${sec}s`;
  return `${sec}s`;
}

export const fullDate = (iso) => (iso ? dtf.format(new Date(iso)) : '');

export const number = (n, digits = 0) =>
  n == null || Number.isNaN(n) ? '–' : n.toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 });

export const transportLabel = { stdio: 'stdio', sse: 'SSE (legacy)', 'streamable-http': 'Streamable HTTP' };

/** Pretty JSON when text parses as JSON, else null. */
export function prettyJson(text) {
  if (typeof text !== 'string' || !/^\s*[[{]/.test(text)) return null;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return null;
  }
}
