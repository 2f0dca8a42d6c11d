// A minimal MCP client over streamable HTTP (2025-11-25), for trying tools through the gateway's own proxy
// endpoint: initialize, notifications/initialized, then requests whose answers come back as JSON or as an SSE
// stream that may carry progress notifications first. One session per use, closed with DELETE. Requests carry the
// origin's cookies (fetch's default), so an ingress with session affinity keeps the session on one replica.

const PROTOCOL_VERSION = '2025-11-25';

/** The endpoint refused the HTTP request (401, 403, 404, 503…), with its problem details when present. */
export class HttpError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** The server answered with a JSON-RPC error. */
export class RpcError extends Error {
  constructor(error) {
    super(error?.message ?? 'JSON-RPC error');
    this.code = error?.code;
    this.data = error?.data;
  }
}

export class McpSession {
  #url;
  #token;
  #sessionId = null;
  #nextId = 1;

  /** @param url the endpoint, e.g. new URL('../everything/stream', document.baseURI) */
  constructor(url, { token } = {}) {
    this.#url = url;
    this.#token = token;
  }

  /** Initializes the session; resolves with the server's initialize result. */
  async open(signal) {
    const result = await this.request('initialize', {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'mcpserverless-console', version: '1.0' },
    }, { signal });
    await this.notify('notifications/initialized', undefined, signal);
    return result;
  }

  /** Sends a request; resolves with its result. onProgress gets each notifications/progress params for it. */
  async request(method, params, { signal, onProgress } = {}) {
    const id = this.#nextId++;
    const response = await this.#post({ jsonrpc: '2.0', id, method, params }, signal);
    const type = response.headers.get('Content-Type') ?? '';
    let message;
    if (type.startsWith('text/event-stream')) {
      message = await readEvents(response, signal, (m) => {
        if (m.method === 'notifications/progress') onProgress?.(m.params);
        return m.id === id && ('result' in m || 'error' in m);
      });
      signal?.throwIfAborted();
    } else {
      const body = await response.json();
      message = Array.isArray(body) ? body.find((m) => m.id === id) : body;
    }
    if (!message) throw new Error(`The server closed the stream without answering ${method}.`);
    if (message.error) throw new RpcError(message.error);
    return message.result;
  }

  async notify(method, params, signal) {
    const response = await this.#post({ jsonrpc: '2.0', method, params }, signal);
    await response.body?.cancel();
  }

  /** Asks the server to stop a request whose answer is no longer wanted. */
  cancel(requestId, reason) {
    return this.notify('notifications/cancelled', { requestId, reason }).catch(() => {});
  }

  get lastRequestId() {
    return this.#nextId - 1;
  }

  /** Ends the session; failures are ignored (the gateway also ends idle sessions). */
  async close() {
    if (!this.#sessionId) return;
    try {
      await fetch(this.#url, { method: 'DELETE', headers: this.#headers() });
    } catch {
      // nothing to do
    }
    this.#sessionId = null;
  }

  #headers() {
    const headers = { Accept: 'application/json, text/event-stream', 'Content-Type': 'application/json' };
    if (this.#sessionId) {
      headers['Mcp-Session-Id'] = this.#sessionId;
      headers['MCP-Protocol-Version'] = PROTOCOL_VERSION;
    }
    if (this.#token) headers.Authorization = `Bearer ${this.#token}`;
    return headers;
  }

  async #post(message, signal) {
    const response = await fetch(this.#url, {
      method: 'POST', headers: this.#headers(), body: JSON.stringify(message), cache: 'no-store', signal,
    });
    if (!response.ok) {
      let problem = null;
      try {
        problem = await response.json();
      } catch {
        // not JSON
      }
      throw new HttpError(response.status, problem);
    }
    this.#sessionId ??= response.headers.get('Mcp-Session-Id');
    return response;
  }
}

/** Reads SSE events until isLast(message) holds for a JSON-RPC message; returns that message. */
async function readEvents(response, signal, isLast) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const abort = () => reader.cancel().catch(() => {});
  signal?.addEventListener('abort', abort, { once: true });
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return null;
      buffer += value.replaceAll('\r\n', '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
        if (!data) continue;
        const message = JSON.parse(data);
        if (isLast(message)) return message;
      }
    }
  } finally {
    signal?.removeEventListener('abort', abort);
    reader.cancel().catch(() => {});
  }
}
