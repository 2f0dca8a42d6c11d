// What the views show, polled from the admin API while signed in. Views listen for 'servers', 'tools',
// 'metrics' and 'health' events and read the latest values here; polling stops at sign-out.
import { admin, ApiError } from './api.js';

export const WINDOW_SECONDS = 15 * 60;

class Live extends EventTarget {
  servers = null;
  tools = null;
  /** Metrics snapshots in arrival order, { at: ms, snapshot }, kept for WINDOW_SECONDS. */
  samples = [];
  health = null;
  /** The last polling failure (null while the gateway answers). */
  failure = null;

  #loops = [];
  #shape = null;

  start() {
    this.stop();
    this.#loops = [
      this.#loop('servers', 2000, async (signal) => {
        this.servers = await admin.list(signal);
        // A server that connected, dropped or changed its tools: fetch the tools now rather than at their next tick.
        const shape = this.servers.map((e) => `${e.definition.name}:${e.status.state}:${e.status.toolCount}`).join();
        if (shape !== this.#shape && this.#shape !== null) queueMicrotask(() => this.refresh('tools'));
        this.#shape = shape;
      }),
      this.#loop('tools', 5000, async (signal) => {
        this.tools = await admin.tools(signal);
      }),
      this.#loop('metrics', 5000, async (signal) => {
        const snapshot = await admin.metrics(signal);
        const at = Date.now();
        this.samples.push({ at, snapshot });
        while (this.samples.length && this.samples[0].at < at - WINDOW_SECONDS * 1000) this.samples.shift();
      }),
      this.#loop('health', 10000, async () => {
        this.health = await admin.health();
      }),
    ];
  }

  stop() {
    for (const loop of this.#loops) loop.stop();
    this.#loops = [];
    this.servers = this.tools = this.health = this.#shape = null;
    this.samples = [];
  }

  /** Polls one kind now (after a change the user made), instead of at its next tick. */
  refresh(kind) {
    this.#loops.find((l) => l.kind === kind)?.now();
  }

  #loop(kind, interval, poll) {
    let timer = null;
    let stopped = false;
    let controller = null;
    const tick = async () => {
      clearTimeout(timer);
      controller?.abort();
      controller = new AbortController();
      try {
        await poll(controller.signal);
        this.failure = null;
        this.dispatchEvent(new Event(kind));
      } catch (err) {
        if (err.name === 'AbortError') return;
        this.failure = err instanceof ApiError ? err.message : 'The gateway cannot be reached.';
        this.dispatchEvent(new Event('failure'));
      }
      if (!stopped) timer = setTimeout(tick, interval);
    };
    tick();
    return {
      kind,
      now: tick,
      stop() {
        stopped = true;
        clearTimeout(timer);
        controller?.abort();
      },
    };
  }
}

export const live = new Live();

/** Runs listener for each of the events while the view lives; returns the function that detaches them. */
export function watch(events, listener) {
  for (const event of events) live.addEventListener(event, listener);
  return () => {
    for (const event of events) live.removeEventListener(event, listener);
  };
}
