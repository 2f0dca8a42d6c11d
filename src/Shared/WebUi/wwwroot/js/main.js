// Starts the console: reads what the host offers (settings.json), signs in, then routes #/… to the views.
import { h, mount } from './dom.js';
import { admin, unauthorized } from './api.js';
import { credentials } from './session.js';
import { renderSignIn } from './auth.js';
import { live, watch } from './live.js';
import { renderShell } from './shell.js';
import { renderServers } from './servers.js';
import { renderEditor } from './editor.js';
import { renderTools } from './tools.js';
import { renderTraffic } from './traffic.js';
import { span } from './format.js';

const app = document.getElementById('app');
let settings;
let shell = null;
let disposeView = null;
let detachShell = null;
let lastPage = null;

const routes = [
  [/^servers\/new$/, () => renderEditor(shell.view, null), 'servers'],
  [/^servers\/([^/]+)\/edit$/, (name) => renderEditor(shell.view, name), 'servers'],
  [/^servers$/, () => renderServers(shell.view), 'servers'],
  [/^tools(?:\/([^/]+))?(?:\/([^/]+))?$/, (server, tool) => renderTools(shell.view, settings, server, tool), 'tools'],
  [/^traffic$/, () => renderTraffic(shell.view, settings), 'traffic'],
];

function route() {
  if (!shell) return;
  const path = location.hash.replace(/^#\/?/, '');
  const match = routes.map(([pattern, render, section]) => [pattern.exec(path), render, section]).find(([m]) => m);
  if (!match) {
    location.replace('#/servers');
    return;
  }
  const [m, render, section] = match;
  disposeView?.();
  shell.setActive(section);
  disposeView = render(...m.slice(1).map((p) => (p === undefined ? undefined : decodeURIComponent(p)))) ?? null;
  // A new page starts at its top; picking a tool in a long list keeps the list where it was.
  const page = path.split('/').slice(0, 2).join('/');
  if (page !== lastPage) window.scrollTo(0, 0);
  lastPage = page;
}

function start() {
  if (!credentials.signedIn()) {
    signIn();
    return;
  }
  shell = renderShell(app, settings, { onSignOut: () => signIn('You signed out.') });
  detachShell = watch(['servers', 'tools', 'health', 'failure'], updateShell);
  live.start();
  route();
}

function signIn(notice) {
  credentials.signOut();
  live.stop();
  disposeView?.();
  detachShell?.();
  disposeView = detachShell = shell = null;
  renderSignIn(app, settings, { onSignedIn: start, notice });
}

function updateShell() {
  shell.setCount('servers', live.servers?.length);
  shell.setCount('tools', live.tools?.length);
  if (live.failure) {
    shell.setStatus('error', 'Unreachable', live.failure);
  } else if (live.health) {
    const ok = live.health.status === 'ok';
    shell.setStatus(ok ? 'connected' : 'error', ok ? `Healthy · up ${span(uptimeSeconds(live.health.uptime))}` : `Storage ${live.health.status}`,
      `Started ${live.health.startedAt}`);
  }
}

// "1h2m3.5s" → seconds (the health answer writes Go durations).
function uptimeSeconds(text) {
  const units = { h: 3600, m: 60, s: 1, ms: 0.001 };
  return [...String(text).matchAll(/([\d.]+)(ms|h|m|s)/g)].reduce((sum, [, n, unit]) => sum + Number(n) * units[unit], 0);
}

unauthorized.addEventListener('unauthorized', () => signIn('The gateway no longer accepts your token. Sign in again.'));
window.addEventListener('hashchange', route);

try {
  settings = await admin.settings();
  start();
} catch {
  mount(app, h('p', { class: 'banner error pad' }, 'The console could not load its settings from the gateway. Reload to try again.'));
}
