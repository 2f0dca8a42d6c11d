// Tools per server and aggregated, with each server's tool filter beside its list, and a "try it" panel that
// calls a tool through the gateway's own proxy endpoint (/{name}/stream) and shows progress and the result.
import { h, mount } from './dom.js';
import { root } from './api.js';
import { credentials } from './session.js';
import { live, watch } from './live.js';
import { pageHeader, statePill } from './shell.js';
import { schemaForm } from './schema-form.js';
import { HttpError, McpSession, RpcError } from './mcp-client.js';
import { prettyJson } from './format.js';

/** #/tools (all, as /mcp names them), #/tools/{server}, #/tools/{server}/{tool}. */
export function renderTools(view, settings, server, tool) {
  const side = h('nav', { class: 'server-list card', 'aria-label': 'Servers' });
  const list = h('div', { class: 'tool-list' });
  const head = h('div', { class: 'tools-head' });
  const search = h('input', { type: 'search', class: 'search', placeholder: 'Filter tools', 'aria-label': 'Filter tools' });
  const panel = h('aside', { class: 'try-panel card', 'aria-label': 'Try the tool' });
  let panelKey = null;

  mount(view,
    pageHeader('Tools', 'What each server exposes through the gateway, after its tool filter.'),
    h('div', { class: ['tools-layout', tool && 'with-panel'] },
      side,
      h('section', { class: 'card tools-main' }, head, h('div', { class: 'toolbar' }, search), list),
      tool ? panel : null));

  const render = () => {
    const servers = live.servers ?? [];
    const tools = live.tools;
    const entry = servers.find((e) => e.definition.name === server);
    renderSide(side, servers, tools, server);
    renderHead(head, server, entry, tools);
    if (!tools) {
      mount(list, h('p', { class: 'muted pad' }, 'Loading tools…'));
      return;
    }
    const shown = tools
      .filter((t) => !server || t.mcpName === server)
      .filter((t) => `${t.mcpName}__${t.name} ${t.description ?? ''}`.toLowerCase().includes(search.value.trim().toLowerCase()))
      .sort((a, b) => a.mcpName.localeCompare(b.mcpName) || a.name.localeCompare(b.name));
    mount(list, shown.length
      ? shown.map((t) => toolRow(t, !server, t.mcpName === server && t.name === tool))
      : h('p', { class: 'muted pad' }, emptyText(server, entry, search.value)));

    const selected = tool && tools.find((t) => t.mcpName === server && t.name === tool);
    const key = selected ? JSON.stringify(selected) : `missing:${tool}`;
    if (tool && key !== panelKey) {
      panelKey = key;
      mount(panel, selected ? tryPanel(selected, settings) : h('p', { class: 'muted pad' }, `${server} exposes no tool named ${tool} (yet).`));
    }
  };

  search.addEventListener('input', render);
  render();
  return watch(['servers', 'tools'], render);
}

function renderSide(side, servers, tools, current) {
  const count = (name) => tools?.filter((t) => !name || t.mcpName === name).length ?? '…';
  mount(side,
    h('a', { href: '#/tools', class: ['server-link', !current && 'active'] },
      h('span', {}, 'All servers'), h('span', { class: 'nav-count' }, count())),
    h('div', { class: 'divider' }),
    servers.map(({ definition: d, status }) =>
      h('a', { href: `#/tools/${encodeURIComponent(d.name)}`, class: ['server-link', current === d.name && 'active'], title: status.state },
        h('span', { class: `dot ${status.state}` }),
        h('span', { class: 'grow' }, d.name),
        d.toolFilter ? h('span', { class: 'tag small', title: 'Has a tool filter' }, 'filtered') : null,
        h('span', { class: 'nav-count' }, count(d.name)))));
}

function renderHead(head, server, entry, tools) {
  if (!server) {
    mount(head,
      h('h2', {}, 'All servers'),
      h('p', { class: 'muted small' }, 'The aggregated endpoint /mcp offers these as {server}__{tool}; each server\'s filter applies there too.'));
    return;
  }
  if (!entry) {
    mount(head, h('h2', {}, server), h('p', { class: 'muted small' }, 'No server of this name is registered.'));
    return;
  }
  const filter = entry.definition.toolFilter;
  const exposed = tools?.filter((t) => t.mcpName === server).length;
  mount(head,
    h('div', { class: 'tools-title' }, h('h2', {}, server), statePill(entry.status.state),
      h('span', { class: 'muted small' }, exposed === undefined ? '' : `${exposed} tool${exposed === 1 ? '' : 's'} exposed`)),
    h('div', { class: 'filter-box' },
      h('strong', {}, 'Tool filter'),
      filter && (filter.allow?.length || filter.deny?.length)
        ? [
          filter.allow?.length ? h('span', {}, 'expose only ', patterns(filter.allow)) : null,
          filter.deny?.length ? h('span', {}, 'hide ', patterns(filter.deny)) : null,
          h('span', { class: 'muted' }, 'Tools it hides are not listed here, not offered to clients and answer "Unknown tool".'),
        ]
        : h('span', { class: 'muted' }, 'none: every tool the server offers is exposed.'),
      h('a', { href: `#/servers/${encodeURIComponent(server)}/edit`, class: 'btn small' }, 'Edit filter')));
}

const patterns = (list) => list.map((p) => h('code', { class: 'pattern' }, p));

function emptyText(server, entry, query) {
  if (query) return `No tool matches “${query}”.`;
  if (!server) return 'No tools yet: servers report theirs once connected.';
  if (entry && entry.status.state !== 'connected') return `${server} is ${entry.status.state}; its tools appear once it is connected.`;
  return `${server} exposes no tools.`;
}

function toolRow(tool, aggregated, active) {
  const href = `#/tools/${encodeURIComponent(tool.mcpName)}/${encodeURIComponent(tool.name)}`;
  const props = Object.entries(tool.inputSchema?.properties ?? {});
  const required = new Set(tool.inputSchema?.required ?? []);
  return h('a', { href, class: ['tool-row', active && 'active'], dataset: { tool: tool.name } },
    h('div', { class: 'tool-name' },
      h('span', { class: 'mono' }, aggregated ? `${tool.mcpName}__${tool.name}` : tool.name),
      aggregated ? h('span', { class: 'tag' }, tool.mcpName) : null),
    tool.description ? h('p', { class: 'tool-desc' }, tool.description) : null,
    props.length
      ? h('div', { class: 'chips' }, props.map(([name, p]) => h('span', { class: 'chip' }, name, required.has(name) ? '*' : '', h('small', {}, typeOf(p)))))
      : null);
}

const typeOf = (p) => (Array.isArray(p?.type) ? p.type.join('|') : p?.type ?? 'any');

// ---- try it -----------------------------------------------------------------------------------------------

let progressTokens = 0;

function tryPanel(tool, settings) {
  const close = h('a', { href: `#/tools/${encodeURIComponent(tool.mcpName)}`, class: 'icon-btn', 'aria-label': 'Close' }, '×');
  const header = h('header', { class: 'try-head' },
    h('div', {}, h('h2', { class: 'mono' }, tool.name), h('p', { class: 'muted small' }, `on ${tool.mcpName}`)), close);
  const description = tool.description ? h('p', { class: 'tool-desc full' }, tool.description) : null;

  if (!settings.proxyEndpoints) {
    return h('div', {}, header, description,
      h('p', { class: 'banner info' }, 'Trying tools needs the proxy endpoints, which this admin app does not serve. Open the console on a proxy replica (its /ui/ path) to call tools; the schema is below.'),
      h('pre', { class: 'json' }, JSON.stringify(tool.inputSchema ?? {}, null, 2)));
  }

  const form = schemaForm(tool.inputSchema);
  const agent = h('input', { type: 'password', value: credentials.agentToken(), autocomplete: 'off', 'aria-label': 'Agent token' });
  agent.addEventListener('change', () => credentials.setAgentToken(agent.value.trim()));
  const run = h('button', { class: 'btn primary', type: 'submit' }, 'Run');
  const cancel = h('button', { class: 'btn', type: 'button', hidden: true }, 'Cancel');
  const output = h('div', { class: 'try-output', 'aria-live': 'polite' });
  let running = null;

  const submit = async (event) => {
    event.preventDefault();
    const { args, problems } = form.read();
    if (Object.keys(problems).length) return;
    running = new AbortController();
    run.disabled = true;
    cancel.hidden = false;
    const progress = progressView();
    mount(output, progress.element);
    const session = new McpSession(new URL(`${encodeURIComponent(tool.mcpName)}/stream`, root), { token: agent.value.trim() });
    const started = performance.now();
    try {
      await session.open(running.signal);
      const result = await session.request('tools/call',
        { name: tool.name, arguments: args, _meta: { progressToken: `console-${++progressTokens}` } },
        { signal: running.signal, onProgress: progress.update });
      mount(output, resultView(result, performance.now() - started));
    } catch (err) {
      if (running.signal.aborted) await session.cancel(session.lastRequestId, 'Cancelled from the console');
      mount(output, errorView(err, running.signal.aborted));
    } finally {
      progress.stop();
      session.close();
      running = null;
      run.disabled = false;
      cancel.hidden = true;
    }
  };
  cancel.addEventListener('click', () => running?.abort());

  return h('div', {}, header, description,
    h('form', { class: 'try-form', novalidate: true, onsubmit: submit },
      form.element,
      h('details', { class: 'agent-token' },
        h('summary', {}, 'Agent token'),
        h('p', { class: 'hint' }, 'Sent to the proxy endpoint when the gateway or this server requires a bearer token. Kept in this tab only.'),
        agent),
      h('div', { class: 'actions' }, run, cancel, h('span', { class: 'muted small' }, `via ${tool.mcpName}/stream`))),
    output);
}

function progressView() {
  const bar = h('progress', { max: 1 });
  const text = h('span', { class: 'small' }, 'Calling…');
  const clock = h('span', { class: 'muted small mono' });
  const started = performance.now();
  const timer = setInterval(() => {
    clock.textContent = `${((performance.now() - started) / 1000).toFixed(1)}s`;
  }, 100);
  bar.removeAttribute('value'); // indeterminate until the first progress notification
  return {
    element: h('div', { class: 'progress', role: 'status' }, bar, h('div', { class: 'progress-text' }, text, clock)),
    update({ progress, total, message }) {
      if (total) {
        bar.max = total;
        bar.value = progress;
      }
      text.textContent = [message, total ? `${progress} / ${total}` : `${progress}`].filter(Boolean).join(' · ');
    },
    stop: () => clearInterval(timer),
  };
}

function resultView(result, elapsed) {
  const items = result?.content ?? [];
  return h('div', { class: ['result', result?.isError && 'is-error'] },
    h('div', { class: 'result-head' },
      h('strong', {}, result?.isError ? 'The tool reported an error' : 'Result'),
      h('span', { class: 'muted small mono' }, `${(elapsed / 1000).toFixed(2)}s`)),
    items.length ? items.map(contentItem) : h('p', { class: 'muted small' }, 'No content.'),
    result?.structuredContent !== undefined
      ? h('details', { open: true }, h('summary', {}, 'Structured content'), h('pre', { class: 'json' }, JSON.stringify(result.structuredContent, null, 2)))
      : null);
}

function contentItem(item) {
  switch (item.type) {
    case 'text': {
      const json = prettyJson(item.text);
      return h('pre', { class: json ? 'json' : 'text' }, json ?? item.text);
    }
    case 'image':
      return typeof item.mimeType === 'string' && item.mimeType.startsWith('image/')
        ? h('figure', { class: 'image' }, h('img', { src: `data:${item.mimeType};base64,${item.data}`, alt: 'Image returned by the tool' }), h('figcaption', { class: 'muted small' }, item.mimeType))
        : h('p', { class: 'muted small' }, `An image of type ${item.mimeType}.`);
    case 'audio':
      return h('p', { class: 'muted small' }, `Audio (${item.mimeType}, ${Math.round((item.data?.length ?? 0) * 0.75)} bytes).`);
    case 'resource':
      return h('div', { class: 'resource' }, h('span', { class: 'tag' }, 'resource'), h('span', { class: 'mono small' }, item.resource?.uri),
        item.resource?.text !== undefined ? h('pre', { class: 'text' }, item.resource.text) : h('p', { class: 'muted small' }, `${item.resource?.mimeType ?? 'binary'} content`));
    case 'resource_link':
      return h('div', { class: 'resource' }, h('span', { class: 'tag' }, 'link'), h('span', { class: 'mono small' }, item.uri), item.name ? h('span', {}, ` ${item.name}`) : null);
    default:
      return h('pre', { class: 'json' }, JSON.stringify(item, null, 2));
  }
}

function errorView(err, cancelled) {
  let title = 'The call failed';
  let detail = err.message;
  if (cancelled) {
    title = 'Cancelled';
    detail = 'The call was cancelled; the gateway told the server to stop.';
  } else if (err instanceof HttpError) {
    title = err.status === 401 ? 'The proxy endpoint needs a token' : `The proxy endpoint answered ${err.status}`;
    if (err.status === 401) detail = `${err.message} Enter an agent token (a global token or one of this server's) under "Agent token".`;
  } else if (err instanceof RpcError) {
    title = `JSON-RPC error ${err.code ?? ''}`.trim();
  } else if (err instanceof TypeError) {
    detail = 'The proxy endpoint could not be reached.';
  }
  return h('div', { class: 'result is-error', role: 'alert' }, h('div', { class: 'result-head' }, h('strong', {}, title)), h('p', {}, detail));
}
