// The page frame once signed in: sidebar navigation, page header helpers, toasts and confirmation dialogs.
import { h, mount, s } from './dom.js';

export function brand() {
  return h('div', { class: 'brand' },
    s('svg', { viewBox: '0 0 32 32', width: 28, height: 28, 'aria-hidden': 'true', class: 'brand-mark' },
      s('rect', { width: 32, height: 32, rx: 7, fill: '#2f5bea' }),
      s('path', { d: 'M8 11h16M8 16h16M8 21h16', stroke: '#fff', 'stroke-width': 2.5, 'stroke-linecap': 'round' }),
      s('circle', { cx: 12, cy: 11, r: 2.6, fill: '#7dd3fc' }),
      s('circle', { cx: 20, cy: 16, r: 2.6, fill: '#86efac' }),
      s('circle', { cx: 14, cy: 21, r: 2.6, fill: '#fde68a' })),
    h('span', { class: 'brand-name' }, 'McpServerless'),
    h('span', { class: 'brand-sub' }, 'gateway console'));
}

const NAV = [
  { route: 'servers', label: 'Servers', icon: 'M4 5h16v5H4zM4 14h16v5H4zM7 7.5h.01M7 16.5h.01' },
  { route: 'tools', label: 'Tools', icon: 'M14.7 6.3a4 4 0 0 0-5.4 5.4L4 17v3h3l5.3-5.3a4 4 0 0 0 5.4-5.4l-2.5 2.5-2.4-.6-.6-2.4z' },
  { route: 'traffic', label: 'Traffic', icon: 'M4 19V5M4 19h16M8 15l3-4 3 2 5-6' },
];

/** Renders the frame; returns the view container and hooks to update the navigation and status. */
export function renderShell(container, settings, { onSignOut }) {
  const counts = new Map();
  const links = NAV.map((item) => {
    const count = h('span', { class: 'nav-count' });
    counts.set(item.route, count);
    return h('a', { href: `#/${item.route}`, class: 'nav-link', dataset: { route: item.route } },
      s('svg', { viewBox: '0 0 24 24', width: 18, height: 18, 'aria-hidden': 'true' },
        s('path', { d: item.icon, fill: 'none', stroke: 'currentColor', 'stroke-width': 1.8, 'stroke-linecap': 'round', 'stroke-linejoin': 'round' })),
      h('span', {}, item.label), count);
  });
  const status = h('div', { class: 'host-status', role: 'status', 'aria-live': 'polite' });
  const view = h('main', { class: 'content', id: 'view', tabindex: '-1' });

  mount(container,
    h('div', { class: 'layout' },
      h('aside', { class: 'sidebar' },
        brand(),
        h('nav', { 'aria-label': 'Sections' }, links),
        h('div', { class: 'sidebar-foot' },
          status,
          h('p', { class: 'host-kind' }, settings.proxyEndpoints ? 'Gateway: admin API and proxy' : 'Admin app: admin API only'),
          h('button', { class: 'btn ghost on-dark', type: 'button', onclick: onSignOut }, 'Sign out'))),
      view,
      h('div', { class: 'toasts', 'aria-live': 'polite' })));

  return {
    view,
    setActive(route) {
      for (const link of links) link.classList.toggle('active', link.dataset.route === route);
    },
    setCount(route, text) {
      counts.get(route).textContent = text ?? '';
    },
    setStatus(kind, text, title) {
      mount(status, h('span', { class: `dot ${kind}` }), h('span', {}, text));
      status.title = title ?? '';
    },
  };
}

/** A page header: title, optional subtitle and actions on the right. */
export function pageHeader(title, subtitle, ...actions) {
  return h('header', { class: 'page-header' },
    h('div', {}, h('h1', {}, title), subtitle ? h('p', { class: 'muted' }, subtitle) : null),
    h('div', { class: 'actions' }, actions));
}

export function toast(message, kind = 'ok') {
  const host = document.querySelector('.toasts');
  if (!host) return;
  const item = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  host.append(item);
  setTimeout(() => item.remove(), 4000);
}

/** A modal question; resolves true when confirmed. */
export function confirmDialog({ title, body, confirm, danger = false }) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'dialog-title' },
      h('h2', { id: 'dialog-title' }, title),
      h('p', {}, body),
      h('div', { class: 'actions' },
        h('button', { class: 'btn', type: 'button', onclick: () => dialog.close('cancel') }, 'Cancel'),
        h('button', { class: `btn ${danger ? 'danger' : 'primary'}`, type: 'button', onclick: () => dialog.close('ok') }, confirm)));
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'ok');
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A state pill: connected, connecting, disconnected, error. */
export function statePill(state) {
  return h('span', { class: `pill ${state}` }, h('span', { class: `dot ${state}` }), state);
}
