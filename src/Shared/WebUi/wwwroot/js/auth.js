// Sign-in. The host lists its methods in settings.json ("signIn"); each has a panel here. OAuth, when it comes,
// adds a method whose panel ends, like the token's, in credentials.signIn(bearer token) — api.js sends whatever
// bearer the session holds, so nothing else changes.
import { h, mount, uid } from './dom.js';
import { ApiError, call } from './api.js';
import { credentials } from './session.js';
import { brand } from './shell.js';

const methods = { token: tokenPanel };

/** Renders the sign-in page; calls onSignedIn once the gateway accepted the credentials. */
export function renderSignIn(container, settings, { onSignedIn, notice }) {
  const panels = (settings.signIn ?? ['token']).filter((m) => m in methods).map((m) => methods[m](onSignedIn));
  mount(container,
    h('main', { class: 'signin' },
      h('section', { class: 'signin-card', 'aria-labelledby': 'signin-title' },
        brand(),
        h('h1', { id: 'signin-title' }, 'Sign in to the gateway console'),
        h('p', { class: 'muted' }, 'Manage upstream MCP servers, watch their connections and try their tools.'),
        notice ? h('p', { class: 'banner warn', role: 'status' }, notice) : null,
        panels)));
  container.querySelector('input')?.focus();
}

function tokenPanel(onSignedIn) {
  const id = uid('token');
  const input = h('input', { id, type: 'password', name: 'token', autocomplete: 'current-password', spellcheck: 'false' });
  const error = h('p', { class: 'field-error', role: 'alert' });
  const button = h('button', { class: 'btn primary wide', type: 'submit' }, 'Sign in');

  const submit = async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    error.textContent = '';
    button.disabled = true;
    try {
      await call('GET', 'admin/mcps', { token });
      credentials.signIn(token);
      onSignedIn();
    } catch (err) {
      error.textContent = reason(err);
      input.select();
    } finally {
      button.disabled = false;
    }
  };

  return h('form', { class: 'stack', onsubmit: submit },
    h('label', { for: id }, 'Admin token'),
    input,
    h('p', { class: 'hint' }, 'One of the gateway\'s McpProxy:AdminTokens. It is kept in this tab only (session storage) and sent as a bearer token. Leave it empty if the gateway has no admin tokens and you are on its machine.'),
    error,
    button);
}

function reason(err) {
  if (!(err instanceof ApiError)) return 'The gateway could not be reached.';
  if (err.status === 401) return 'The gateway did not accept this token.';
  return err.problem?.detail ?? err.message;
}
