// The servers table: every registered server with its live connection state, refreshed as polls arrive.
import { h, mount } from './dom.js';
import { admin, ApiError } from './api.js';
import { live, watch } from './live.js';
import { ago, fullDate, transportLabel } from './format.js';
import { confirmDialog, pageHeader, statePill, toast } from './shell.js';

const COLUMNS = [['Server'], ['State'], ['Tools', 'num'], ['Connected'], ['Retries', 'num'], ['Health'], ['Replica'], ['Last error'], ['']];

export function renderServers(view) {
  const search = h('input', { type: 'search', class: 'search', placeholder: 'Filter by name', 'aria-label': 'Filter servers by name' });
  const summary = h('div', { class: 'summary' });
  const body = h('tbody');
  const table = h('table', { class: 'grid servers' },
    h('thead', {}, h('tr', {}, COLUMNS.map(([c, cls]) => h('th', { scope: 'col', class: cls }, c)))),
    body);
  const empty = h('div', { class: 'empty' });
  const rows = new Map(); // name → { key, tr }

  mount(view,
    pageHeader('Servers', 'Upstream MCP servers behind this gateway, with the state of their connections.',
      h('a', { class: 'btn primary', href: '#/servers/new' }, '+ Add server')),
    h('section', { class: 'card' },
      h('div', { class: 'toolbar' }, summary, search),
      h('div', { class: 'table-wrap' }, table),
      empty));

  const render = () => {
    const entries = live.servers;
    if (!entries) {
      mount(empty, h('p', { class: 'muted' }, 'Loading servers…'));
      return;
    }
    const filter = search.value.trim().toLowerCase();
    const shown = entries.filter((e) => e.definition.name.toLowerCase().includes(filter));
    mount(summary, summarize(entries));

    const now = Date.now();
    const next = new Map();
    for (const entry of shown) {
      // Relative times change every second, so the key holds the data, and rows re-render when it changes or
      // every poll for the times; the row's element is reused when nothing moved, keeping focus and hover.
      const key = JSON.stringify(entry) + Math.floor(now / 5000);
      const known = rows.get(entry.definition.name);
      const tr = known && known.key === key ? known.tr : row(entry, now);
      next.set(entry.definition.name, { key, tr });
    }
    rows.clear();
    for (const [name, value] of next) rows.set(name, value);
    body.replaceChildren(...[...next.values()].map((r) => r.tr));

    table.hidden = shown.length === 0;
    if (entries.length === 0) {
      mount(empty, h('div', { class: 'empty-state' },
        h('h2', {}, 'No servers yet'),
        h('p', { class: 'muted' }, 'Register a stdio, SSE or streamable-HTTP server and the gateway connects to it at once.'),
        h('a', { class: 'btn primary', href: '#/servers/new' }, 'Add your first server')));
    } else if (shown.length === 0) {
      mount(empty, h('p', { class: 'muted pad' }, `No server matches “${search.value}”.`));
    } else {
      empty.replaceChildren();
    }
  };

  search.addEventListener('input', render);
  render();
  return watch(['servers'], render);
}

function summarize(entries) {
  const by = (state) => entries.filter((e) => e.status.state === state).length;
  return [
    h('span', { class: 'count' }, h('strong', {}, entries.length), ' registered'),
    ['connected', 'connecting', 'disconnected', 'error']
      .filter((state) => by(state) > 0)
      .map((state) => h('span', { class: 'count' }, h('span', { class: `dot ${state}` }), h('strong', {}, by(state)), ` ${state}`)),
  ];
}

function row(entry, now) {
  const { definition: d, status: st, version } = entry;
  const target = d.transport === 'stdio' ? [d.command, ...(d.args ?? [])].join(' ') : d.url;
  const health = d.healthCheckEnabled
    ? st.lastHealthCheck
      ? h('span', { title: fullDate(st.lastHealthCheck) },
        h('span', { class: `health ${st.healthy === false ? 'bad' : 'good'}` }, st.healthy === false ? 'failed' : 'ok'), ' ', ago(st.lastHealthCheck, now))
      : h('span', { class: 'muted' }, 'pending')
    : h('span', { class: 'muted' }, 'off');

  return h('tr', { dataset: { server: d.name } },
    h('td', {},
      h('div', { class: 'server-name' }, h('a', { href: `#/servers/${encodeURIComponent(d.name)}/edit` }, d.name),
        h('span', { class: 'tag' }, transportLabel[d.transport] ?? d.transport)),
      h('div', { class: 'sub mono', title: target }, target),
      d.description ? h('div', { class: 'sub' }, d.description) : null),
    h('td', {}, statePill(st.state)),
    h('td', { class: 'num' }, st.state === 'connected' || st.toolCount
      ? h('a', { href: `#/tools/${encodeURIComponent(d.name)}`, 'aria-label': `Tools of ${d.name}`, title: 'Open its tools' }, st.toolCount)
      : h('span', { class: 'muted' }, '–')),
    h('td', { title: fullDate(st.connectedSince) }, st.connectedSince ? ago(st.connectedSince, now) : h('span', { class: 'muted' }, '–')),
    h('td', { class: 'num' }, st.reconnectAttempts || h('span', { class: 'muted' }, '0')),
    h('td', {}, health),
    h('td', { class: 'mono small', title: st.reportedAt ? `reported ${fullDate(st.reportedAt)}` : '' }, st.instance ?? h('span', { class: 'muted' }, '–')),
    h('td', { class: 'error-cell' }, st.lastError ? h('span', { class: 'error-text', title: st.lastError }, st.lastError) : h('span', { class: 'muted' }, '–')),
    h('td', { class: 'row-actions' },
      h('a', { class: 'btn small', href: `#/servers/${encodeURIComponent(d.name)}/edit` }, 'Edit'),
      h('button', { class: 'btn small danger-ghost', type: 'button', onclick: () => remove(d.name, version) }, 'Delete')));
}

async function remove(name, version) {
  const confirmed = await confirmDialog({
    title: `Delete ${name}?`,
    body: 'The gateway closes its upstream connection (a stdio process is stopped) and ends the sessions of its clients. This cannot be undone.',
    confirm: 'Delete server',
    danger: true,
  });
  if (!confirmed) return;
  try {
    await admin.remove(name, version);
    toast(`Deleted ${name}.`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) toast(`${name} changed since this page showed it; look again before deleting.`, 'error');
    else if (err instanceof ApiError && err.status === 404) toast(`${name} was already deleted.`);
    else toast(`Could not delete ${name}: ${err.message}`, 'error');
  }
  live.refresh('servers');
}
