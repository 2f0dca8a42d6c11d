// Add and edit form covering every field of a server definition. The gateway validates; its problem-details
// field errors are shown beside the fields they name. Secrets arrive as *** and go back as *** unless replaced,
// which the gateway reads as "keep the stored value".
import { h, mount, uid } from './dom.js';
import { admin, ApiError } from './api.js';
import { live } from './live.js';
import { pageHeader, toast } from './shell.js';

const MASK = '***';
const GO_DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;
const TIMESPAN = /^(\d+\.)?\d{1,2}:\d{2}:\d{2}(\.\d+)?$/;

const NEW_SERVER = { transport: 'stdio', autoReconnect: true, healthCheckEnabled: true };

/** Renders the form for a new server (name null) or an existing one; returns a disposer. */
export function renderEditor(view, name) {
  let disposed = false;
  if (name === null) {
    mount(view, new ServerForm(NEW_SERVER, null).element);
  } else {
    mount(view, h('p', { class: 'muted pad' }, `Loading ${name}…`));
    admin.get(name).then(
      (entry) => !disposed && mount(view, new ServerForm(entry.definition, entry.version).element),
      (err) => !disposed && mount(view, pageHeader(name, null),
        h('p', { class: 'banner error' }, err instanceof ApiError && err.status === 404 ? `No server named ${name} is registered.` : err.message),
        h('a', { class: 'btn', href: '#/servers' }, 'Back to servers')));
  }
  return () => {
    disposed = true;
  };
}

// Fields the form edits; any other field of a definition (upstreamAuth, requiredScopes, requiredRoles, toolsCacheTtl,
// ...) is set through the admin API and kept as read when the form saves, its secrets masked as the gateway sent them.
const FORM_FIELDS = ['name', 'description', 'transport', 'command', 'args', 'env', 'url', 'headers', 'timeout', 'autoReconnect',
  'maxReconnects', 'reconnectDelay', 'healthCheckEnabled', 'healthCheckInterval', 'requireAuth', 'authTokens', 'allowedIPs',
  'toolFilter', 'isolateSessions'];

class ServerForm {
  constructor(definition, version) {
    this.name = version === null ? null : definition.name;
    this.version = version;
    this.banner = h('div', { class: 'banner-slot', 'aria-live': 'polite' });
    this.element = h('div', { class: 'editor' });
    this.#build(definition);
  }

  #build(d) {
    const isNew = this.name === null;
    this.kept = Object.fromEntries(Object.entries(d).filter(([key]) => !FORM_FIELDS.includes(key)));
    const f = (this.fields = {});

    f.name = input({ value: d.name ?? '', readOnly: !isNew, class: 'mono', autocomplete: 'off', spellcheck: 'false' });
    f.description = input({ value: d.description ?? '' });
    f.transport = radios('transport', [['stdio', 'stdio', 'a local process'], ['streamable-http', 'Streamable HTTP', 'remote, current'], ['sse', 'SSE', 'remote, legacy 2024-11-05']], d.transport ?? 'stdio');
    f.command = input({ value: d.command ?? '', class: 'mono', spellcheck: 'false', placeholder: 'e.g. node' });
    f.args = lines(d.args, 'e.g. dist/index.js');
    f.env = keyValues(d.env, { key: 'Variable', value: 'Value', add: 'Add variable' });
    f.url = input({ value: d.url ?? '', class: 'mono', spellcheck: 'false', placeholder: 'e.g. https://mcp.example.com/mcp' });
    f.headers = keyValues(d.headers, { key: 'Header', value: 'Value', add: 'Add header' });
    f.timeout = input({ value: d.timeout ?? '', class: 'short', placeholder: '30s' });
    f.autoReconnect = toggle(d.autoReconnect);
    f.maxReconnects = input({ type: 'number', min: '0', max: '10000', step: '1', value: d.maxReconnects ?? 0, class: 'short' });
    f.reconnectDelay = input({ value: d.reconnectDelay ?? '', class: 'short', placeholder: '1s' });
    f.healthCheckEnabled = toggle(d.healthCheckEnabled);
    f.healthCheckInterval = input({ value: d.healthCheckInterval ?? '', class: 'short', placeholder: '30s' });
    f.requireAuth = toggle(d.requireAuth);
    f.authTokens = tokens(d.authTokens);
    f.allowedIPs = lines(d.allowedIPs, 'e.g. 10.0.0.0/8');
    f.allow = lines(d.toolFilter?.allow, 'e.g. read_*');
    f.deny = lines(d.toolFilter?.deny, 'e.g. delete_*');
    f.isolateSessions = toggle(d.isolateSessions);

    const stdio = h('div', { class: 'transport-fields' },
      field('command', 'Command', f.command, 'The program to start; it speaks MCP on stdin and stdout.'),
      field('args', 'Arguments', f.args, 'One per line.'),
      field('env', 'Environment', f.env, secretHint('values')));
    const remote = h('div', { class: 'transport-fields' },
      field('url', 'URL', f.url, 'Absolute http(s) URL of the server\'s MCP endpoint.'),
      field('headers', 'Headers', f.headers, secretHint('values')));
    const showTransport = () => {
      const isStdio = f.transport.value() === 'stdio';
      stdio.hidden = !isStdio;
      remote.hidden = isStdio;
    };
    f.transport.element.addEventListener('change', showTransport);
    showTransport();

    this.saveButton = h('button', { class: 'btn primary', type: 'submit' }, isNew ? 'Add server' : 'Save changes');
    const form = h('form', { class: 'editor-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); this.save(); } },
      h('div', { class: 'editor-grid' },
        h('div', { class: 'editor-col' },
          card('General', null,
            field('name', 'Name', f.name, isNew ? 'Letters, digits, _ and -; it becomes the path of the server\'s endpoints: /{name}/stream.' : 'A server cannot be renamed.'),
            field('description', 'Description', f.description),
            field('transport', 'Transport', f.transport.element)),
          card('Resilience', 'How the gateway keeps the connection up.',
            field('autoReconnect', 'Reconnect when the connection is lost', f.autoReconnect, null, 'inline'),
            h('div', { class: 'row' },
              field('maxReconnects', 'Max attempts', f.maxReconnects, '0 = unlimited, per outage.'),
              field('reconnectDelay', 'First delay', f.reconnectDelay, 'Doubles up to 30s. Default 1s.')),
            field('healthCheckEnabled', 'Ping the server periodically', f.healthCheckEnabled, null, 'inline'),
            field('healthCheckInterval', 'Ping interval', f.healthCheckInterval, 'At least 1s. Default 30s.')),
          card('Tools and sessions', null,
            h('div', { class: 'row' },
              field('toolFilter.allow', 'Expose only', f.allow, 'Names or globs (* and ?), one per line. Empty: all.'),
              field('toolFilter.deny', 'Hide', f.deny, 'Deny wins over allow.')),
            field('isolateSessions', 'Give each client session its own upstream connection', f.isolateSessions,
              'For servers that keep per-client state; each session costs a connection (for stdio, a process).', 'inline'))),
        h('div', { class: 'editor-col' },
          card('Connection', null, stdio, remote,
            field('timeout', 'Timeout', f.timeout, 'Bounds connecting and each request, e.g. 30s or 1m30s. Default 30s.')),
          card('Access', 'Who may use this server through the gateway.',
            field('requireAuth', 'Require a bearer token', f.requireAuth, 'Global agent tokens are accepted too; tokens listed here also turn this on.', 'inline'),
            field('authTokens', 'Tokens for this server', f.authTokens, secretHint('tokens')),
            field('allowedIPs', 'Allowed client addresses', f.allowedIPs, 'IP addresses or CIDR ranges, one per line. Empty: any address.')))),
      h('footer', { class: 'form-bar' },
        h('span', { class: 'muted small' }, this.version ? `Editing version ${this.version}` : ''),
        h('a', { class: 'btn', href: '#/servers' }, 'Cancel'),
        this.saveButton));

    mount(this.element,
      pageHeader(isNew ? 'Add server' : `Edit ${this.name}`, isNew ? 'Register an upstream MCP server; the gateway connects as soon as it is saved.' : 'Changes take effect live: the connection is swapped under its sessions.'),
      this.banner,
      form);
    (isNew ? f.name : f.description).focus();
  }

  /** The definition the form describes, and the problems found before asking the gateway. */
  #read() {
    const f = this.fields;
    const problems = {};
    const text = (control) => control.value.trim();
    const duration = (key, control) => {
      const value = text(control);
      if (value && !GO_DURATION.test(value) && !TIMESPAN.test(value)) problems[key] = ['Use a duration such as 500ms, 30s, 1m30s or 2h.'];
      return value || undefined;
    };

    const transport = f.transport.value();
    const definition = { ...this.kept, name: text(f.name), description: text(f.description) || undefined, transport };
    if (transport === 'stdio') {
      definition.command = text(f.command);
      definition.args = f.args.list();
      definition.env = f.env.read();
    } else {
      definition.url = text(f.url);
      definition.headers = f.headers.read();
    }
    definition.timeout = duration('timeout', f.timeout);
    definition.autoReconnect = f.autoReconnect.checked;
    const max = Number(f.maxReconnects.value || 0);
    if (!Number.isInteger(max)) problems.maxReconnects = ['A whole number.'];
    definition.maxReconnects = max;
    definition.reconnectDelay = duration('reconnectDelay', f.reconnectDelay);
    definition.healthCheckEnabled = f.healthCheckEnabled.checked;
    definition.healthCheckInterval = duration('healthCheckInterval', f.healthCheckInterval);
    definition.requireAuth = f.requireAuth.checked;
    definition.authTokens = f.authTokens.read();
    definition.allowedIPs = f.allowedIPs.list();
    const allow = f.allow.list(), deny = f.deny.list();
    if (allow || deny) definition.toolFilter = { allow, deny };
    definition.isolateSessions = f.isolateSessions.checked;
    return { definition, problems };
  }

  async save({ overwrite = false } = {}) {
    this.#clearErrors();
    const { definition, problems } = this.#read();
    if (Object.keys(problems).length) {
      this.#showErrors(problems);
      return;
    }
    this.saveButton.disabled = true;
    try {
      if (overwrite) this.version = (await admin.get(this.name)).version;
      const saved = this.name === null ? await admin.register(definition) : await admin.update(this.name, definition, this.version);
      toast(`${this.name === null ? 'Added' : 'Saved'} ${saved.definition.name}.`);
      live.refresh('servers');
      location.hash = '#/servers';
    } catch (err) {
      this.#failed(err);
    } finally {
      this.saveButton.disabled = false;
    }
  }

  #failed(err) {
    if (!(err instanceof ApiError)) {
      this.#banner('error', 'The gateway could not be reached; nothing was saved.');
    } else if (err.status === 400 && Object.keys(err.fieldErrors).length) {
      this.#showErrors(err.fieldErrors);
    } else if (err.status === 409 && this.name === null) {
      this.#showErrors({ name: [err.problem?.detail ?? 'A server with this name is already registered.'] });
    } else if (err.status === 409) {
      this.#conflict();
    } else if (err.status === 404) {
      this.#banner('error', `${this.name} was deleted while you were editing it; nothing was saved.`);
    } else {
      this.#banner('error', `Nothing was saved. ${err.message}`);
    }
  }

  /** Someone else saved first: the gateway refused to overwrite their version. */
  #conflict() {
    const reload = async () => {
      try {
        const entry = await admin.get(this.name);
        this.version = entry.version;
        this.#build(entry.definition);
        this.#banner('ok', `Loaded the latest version (${entry.version}).`);
      } catch (err) {
        this.#banner('error', `Could not reload: ${err.message}`);
      }
    };
    mount(this.banner, h('div', { class: 'banner warn conflict', role: 'alert' },
      h('div', {},
        h('strong', {}, 'Someone else changed this server while you were editing it.'),
        h('p', {}, `You started from version ${this.version}; the gateway keeps a newer one and refused to overwrite it, so nothing was saved. Reload to see the current definition (your edits here are discarded), or save yours over it.`)),
      h('div', { class: 'actions' },
        h('button', { class: 'btn primary', type: 'button', onclick: reload }, 'Reload latest'),
        h('button', { class: 'btn', type: 'button', onclick: () => this.save({ overwrite: true }) }, 'Overwrite with mine'))));
    this.banner.scrollIntoView({ block: 'nearest' });
  }

  #banner(kind, message) {
    mount(this.banner, h('p', { class: `banner ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message));
  }

  #clearErrors() {
    this.banner.replaceChildren();
    for (const slot of this.element.querySelectorAll('.field')) {
      slot.classList.remove('invalid');
      slot.querySelector(':scope > .field-error').textContent = '';
    }
  }

  #showErrors(errors) {
    const unplaced = [];
    let first = null;
    for (const [key, messages] of Object.entries(errors)) {
      const slot = this.element.querySelector(`.field[data-field="${CSS.escape(key)}"]`);
      if (!slot || slot.closest('[hidden]')) {
        unplaced.push(`${key}: ${messages.join(' ')}`);
        continue;
      }
      slot.classList.add('invalid');
      slot.querySelector(':scope > .field-error').textContent = messages.join(' ');
      first ??= slot;
    }
    const count = Object.keys(errors).length;
    mount(this.banner, h('div', { class: 'banner error', role: 'alert' },
      h('strong', {}, `Nothing was saved: ${count === 1 ? 'one field needs' : `${count} fields need`} attention.`),
      unplaced.length ? h('ul', {}, unplaced.map((m) => h('li', {}, m))) : null));
    (first?.querySelector('input, textarea') ?? this.banner).focus?.();
    first?.scrollIntoView({ block: 'center' });
  }
}

// ---- controls ---------------------------------------------------------------------------------------------

function card(title, subtitle, ...children) {
  return h('section', { class: 'card form-card' },
    h('h2', {}, title), subtitle ? h('p', { class: 'muted small' }, subtitle) : null, children);
}

/** A labelled field with its hint and the slot for the gateway's message about it. */
function field(key, label, control, hint, layout) {
  const element = control instanceof Node ? control : control.element;
  const errorId = uid('err');
  let caption;
  if (element.matches('input, textarea, select')) {
    element.id ||= uid();
    caption = h('label', { for: element.id }, label);
  } else {
    const labelId = uid('label');
    if (!element.hasAttribute('role')) element.setAttribute('role', 'group');
    element.setAttribute('aria-labelledby', labelId);
    caption = h('span', { class: 'label', id: labelId }, label);
  }
  element.setAttribute('aria-describedby', errorId);
  return h('div', { class: ['field', layout], dataset: { field: key } },
    layout === 'inline' ? [element, caption] : [caption, element],
    hint ? h('p', { class: 'hint' }, hint) : null,
    h('p', { class: 'field-error', id: errorId }));
}

function input(props) {
  return h('input', { type: 'text', ...props });
}

function toggle(checked) {
  return h('input', { type: 'checkbox', class: 'switch', checked: Boolean(checked) });
}

function radios(name, options, selected) {
  const element = h('div', { class: 'segmented', role: 'radiogroup' },
    options.map(([value, label, sub]) => {
      const id = uid();
      return [
        h('input', { type: 'radio', name, id, value, checked: value === selected }),
        h('label', { for: id }, h('span', {}, label), h('small', {}, sub)),
      ];
    }));
  return { element, value: () => element.querySelector('input:checked')?.value };
}

/** A textarea holding one entry per line; list() is undefined when empty. */
function lines(values, placeholder) {
  const area = h('textarea', { rows: Math.max(2, Math.min(6, (values?.length ?? 0) + 1)), class: 'mono', spellcheck: 'false', placeholder });
  area.value = (values ?? []).join('\n');
  area.list = () => {
    const entries = area.value.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
    return entries.length ? entries : undefined;
  };
  return area;
}

function secretHint(what) {
  return `Secret ${what} are shown as ${MASK}; leave ${MASK} to keep the stored value, or type a new one.`;
}

function storedBadge(input) {
  const badge = h('span', { class: 'stored', title: 'A stored secret the gateway does not reveal' }, 'stored');
  const sync = () => {
    badge.hidden = input.value !== MASK;
  };
  input.addEventListener('input', sync);
  sync();
  return badge;
}

/** Rows of name/value inputs for env and headers; read() is an object, or undefined when empty. */
function keyValues(map, labels) {
  const list = h('div', { class: 'rows' });
  const add = (key = '', value = '') => {
    const k = h('input', { type: 'text', class: 'mono', value: key, placeholder: labels.key, 'aria-label': labels.key, spellcheck: 'false' });
    const v = h('input', { type: 'text', class: 'mono', value, placeholder: labels.value, 'aria-label': `${labels.value} of ${labels.key.toLowerCase()}`, spellcheck: 'false', autocomplete: 'off' });
    const row = h('div', { class: 'kv-row' }, k, h('div', { class: 'secret' }, v, storedBadge(v)),
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': `Remove ${labels.key.toLowerCase()}`, onclick: () => row.remove() }, '×'));
    list.append(row);
    return k;
  };
  for (const [key, value] of Object.entries(map ?? {})) add(key, value);
  const element = h('div', { class: 'rows-field' }, list,
    h('button', { type: 'button', class: 'btn small ghost', onclick: () => add().focus() }, `+ ${labels.add}`));
  return {
    element,
    read() {
      const entries = [...list.children]
        .map((row) => [...row.querySelectorAll('input')].map((i) => i.value))
        .filter(([k, v]) => k.trim() !== '' || v !== '')
        .map(([k, v]) => [k.trim(), v]);
      return entries.length ? Object.fromEntries(entries) : undefined;
    },
  };
}

/** Rows of password inputs for the server's own bearer tokens. */
function tokens(values) {
  const list = h('div', { class: 'rows' });
  const add = (value = '') => {
    const t = h('input', { type: 'password', class: 'mono', value, 'aria-label': 'Token', autocomplete: 'new-password', spellcheck: 'false' });
    const row = h('div', { class: 'kv-row single' }, h('div', { class: 'secret' }, t, storedBadge(t)),
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Remove token', onclick: () => row.remove() }, '×'));
    list.append(row);
    return t;
  };
  for (const value of values ?? []) add(value);
  const element = h('div', { class: 'rows-field' }, list,
    h('button', { type: 'button', class: 'btn small ghost', onclick: () => add().focus() }, '+ Add token'));
  return {
    element,
    read() {
      const values = [...list.querySelectorAll('input')].map((i) => i.value.trim()).filter((v) => v !== '');
      return values.length ? values : undefined;
    },
  };
}
