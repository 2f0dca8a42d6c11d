// The admin API, called relative to the console's own address: /ui/ → /admin/…, /gateway/ui/ → /gateway/admin/….
import { credentials } from './session.js';

export const root = new URL('../', document.baseURI);

/** A refused call, with the problem-details body when the gateway sent one. */
export class ApiError extends Error {
  constructor(status, problem, message) {
    super(message);
    this.status = status;
    this.problem = problem;
  }

  /** Field errors of a 400 validation problem: { "name": ["…"], "toolFilter.allow": ["…"] }. */
  get fieldErrors() {
    return this.problem?.errors ?? {};
  }
}

/** Fires 'unauthorized' when the gateway stops accepting the session's credentials. */
export const unauthorized = new EventTarget();

/**
 * Calls the admin API. Resolves to { data, etag, status }; throws ApiError for any non-2xx answer and a
 * TypeError when the gateway cannot be reached.
 */
export async function call(method, path, { body, ifMatch, token = credentials.token(), signal } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (ifMatch) headers['If-Match'] = `"${ifMatch}"`;
  const response = await fetch(new URL(path, root), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    signal,
  });
  const data = await readBody(response);
  if (!response.ok) {
    const problem = data && typeof data === 'object' ? data : null;
    if (response.status === 401 && token === credentials.token()) unauthorized.dispatchEvent(new Event('unauthorized'));
    throw new ApiError(response.status, problem, describe(response, problem));
  }
  return { data, etag: response.headers.get('ETag')?.replace(/^W\//, '').replaceAll('"', '') ?? null, status: response.status };
}

async function readBody(response) {
  const type = response.headers.get('Content-Type') ?? '';
  if (response.status === 204 || !type.includes('json')) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

function describe(response, problem) {
  const text = problem?.detail ?? problem?.title ?? response.statusText;
  return `${response.status}${text ? `: ${text}` : ''}`;
}

const mcpPath = (name) => `admin/mcps/${encodeURIComponent(name)}`;

export const admin = {
  list: (signal) => call('GET', 'admin/mcps', { signal }).then((r) => r.data.mcps),
  get: (name) => call('GET', mcpPath(name)).then((r) => r.data),
  register: (definition) => call('POST', 'admin/mcps', { body: definition }).then((r) => r.data),
  update: (name, definition, version) => call('PUT', mcpPath(name), { body: definition, ifMatch: version }).then((r) => r.data),
  remove: (name, version) => call('DELETE', mcpPath(name), { ifMatch: version }),
  tools: (signal) => call('GET', 'admin/tools', { signal }).then((r) => r.data.tools),
  metrics: (signal) => call('GET', 'admin/metrics', { signal }).then((r) => r.data),
  health: () => fetch(new URL('healthz', root), { cache: 'no-store' }).then((r) => r.json()),
  settings: () => fetch('settings.json', { cache: 'no-store' }).then((r) => r.json()),
};
