// Traffic per server over the last minutes, from GET /admin/metrics sampled every few seconds (the gateway keeps
// running counters; the rates between samples are computed here): calls, errors and mean latency of the requests
// relayed to each upstream, tallied from the measurements of mcp.client.operation.duration (the OpenTelemetry MCP
// convention histogram that /metrics and the dashboards show), plus HTTP requests per route.
import { h, mount } from './dom.js';
import { live, watch, WINDOW_SECONDS } from './live.js';
import { pageHeader, statePill } from './shell.js';
import { sparkline } from './sparkline.js';
import { number, span } from './format.js';

const WINDOWS = [[5 * 60, '5 min'], [WINDOW_SECONDS, '15 min']];

export function renderTraffic(view, settings) {
  let windowSeconds = WINDOWS[0][0];
  const picker = h('div', { class: 'segmented compact', role: 'radiogroup', 'aria-label': 'Time window' },
    WINDOWS.map(([seconds, label]) => {
      const id = `window-${seconds}`;
      return [
        h('input', { type: 'radio', name: 'window', id, value: seconds, checked: seconds === windowSeconds, onchange: () => { windowSeconds = seconds; render(); } }),
        h('label', { for: id }, label),
      ];
    }));
  const totals = h('div', { class: 'stat-row' });
  const servers = h('div', { class: 'chart-grid' });
  const routes = h('tbody');

  mount(view,
    pageHeader('Traffic', 'Sampled from the gateway\'s metrics every 5 s while this console is open; counters restart with the gateway.', picker),
    totals,
    h('section', { class: 'card' },
      h('h2', {}, 'Upstream calls per server'),
      h('p', { class: 'muted small' }, 'Requests relayed to each server from its own endpoints and the aggregated one, as mcp.client.operation.duration measures them. Errors are JSON-RPC errors, timeouts and lost connections; a tool result flagged isError counts as a call that succeeded.'),
      servers),
    h('section', { class: 'card' },
      h('h2', {}, 'HTTP requests by route'),
      h('p', { class: 'muted small' }, 'Since the gateway started; a status of 400 or above counts as an error.'),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'grid' },
          h('thead', {}, h('tr', {}, [['Route'], ['Requests', 'num'], ['Errors', 'num'], ['Error rate', 'num']].map(([c, cls]) => h('th', { scope: 'col', class: cls }, c)))),
          routes))));

  function render() {
    const samples = live.samples;
    const latest = samples.at(-1)?.snapshot;
    if (!latest) {
      mount(servers, h('p', { class: 'muted' }, 'Waiting for the first sample…'));
      return;
    }
    const to = samples.at(-1).at;
    const from = to - windowSeconds * 1000;

    mount(totals,
      stat('Uptime', span(latest.uptimeSeconds)),
      stat('Servers connected', `${latest.connectedMcps} / ${latest.registeredMcps}`),
      stat('HTTP requests', number(latest.totalRequests), `${number(latest.totalErrors)} errors`),
      stat('Upstream calls', number(Object.values(latest.upstreams ?? {}).reduce((sum, u) => sum + u.calls, 0))));

    const names = new Set([...(live.servers ?? []).map((e) => e.definition.name), ...Object.keys(latest.upstreams ?? {})]);
    if (!settings.proxyEndpoints) {
      mount(servers, h('p', { class: 'banner info' }, 'This admin app relays no MCP traffic, so it has no upstream calls to chart. Each proxy replica counts its own: open the console on a replica, or see the totals in Application Insights.'));
    } else if (names.size === 0) {
      mount(servers, h('p', { class: 'muted' }, 'No servers registered.'));
    } else {
      mount(servers, [...names].sort().map((name) => serverCharts(name, samples, from, to)));
    }

    mount(routes, Object.entries(latest.routes ?? {})
      .sort(([, a], [, b]) => b.requests - a.requests)
      .map(([route, c]) => h('tr', {},
        h('td', { class: 'mono small' }, route),
        h('td', { class: 'num' }, number(c.requests)),
        h('td', { class: 'num' }, number(c.errors)),
        h('td', { class: 'num' }, c.requests ? `${number((100 * c.errors) / c.requests, 1)} %` : '–'))));
  }

  render();
  return watch(['metrics', 'servers'], render);
}

function stat(label, value, sub) {
  return h('div', { class: 'stat card' }, h('span', { class: 'muted small' }, label), h('strong', {}, value), sub ? h('span', { class: 'muted small' }, sub) : null);
}

/** Rates between consecutive samples for one server: calls/min, errors/min and mean latency (ms). */
function series(name, samples) {
  const calls = [], errors = [], latency = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1].snapshot.upstreams?.[name] ?? { calls: 0, errors: 0, durationSeconds: 0 };
    const b = samples[i].snapshot.upstreams?.[name] ?? { calls: 0, errors: 0, durationSeconds: 0 };
    const at = samples[i].at;
    const minutes = (at - samples[i - 1].at) / 60000;
    const dc = b.calls - a.calls;
    if (dc < 0 || minutes <= 0 || samples[i - 1].snapshot.startedAt !== samples[i].snapshot.startedAt) {
      // Another process answered (a restart, another replica) or it forgot the server: no rate for this interval.
      calls.push({ at, value: null }); errors.push({ at, value: null }); latency.push({ at, value: null });
      continue;
    }
    calls.push({ at, value: dc / minutes });
    errors.push({ at, value: (b.errors - a.errors) / minutes });
    latency.push({ at, value: dc > 0 ? ((b.durationSeconds - a.durationSeconds) / dc) * 1000 : null });
  }
  return { calls, errors, latency };
}

function serverCharts(name, samples, from, to) {
  const entry = live.servers?.find((e) => e.definition.name === name);
  const { calls, errors, latency } = series(name, samples);
  const current = (points) => points.filter((p) => p.at >= from).at(-1)?.value;
  const lastLatency = latency.filter((p) => p.at >= from && p.value != null).at(-1)?.value;
  const chart = (title, points, value, className) =>
    h('figure', { class: 'chart' },
      h('figcaption', {}, h('span', { class: 'muted small' }, title), h('strong', {}, value)),
      sparkline(points, { from, to, label: `${title} for ${name}`, className }));

  return h('article', { class: 'server-chart', dataset: { server: name } },
    h('header', {}, h('h3', { class: 'mono' }, name), entry ? statePill(entry.status.state) : null),
    h('div', { class: 'charts' },
      chart('Calls / min', calls, number(current(calls), 1), 'calls'),
      chart('Errors / min', errors, number(current(errors), 1), 'errors'),
      chart('Mean latency', latency, lastLatency == null ? '–' : `${number(lastLatency, lastLatency < 10 ? 1 : 0)} ms`, 'latency')));
}
