import type { LockAdapter } from '../core/adapter';
import { createHttpLockAdapter } from '../core/http-adapter';
import type { LockUser } from '../protocol/protocol';
import { getDefaultMemoryLockServer, type MemoryLockServer } from './memory-server';

export interface MemoryLockAdapterOptions {
  /** Who this adapter is signed in as. Each user (or each "device") gets its own adapter. */
  user: LockUser;
  /**
   * The server the adapter talks to. Default: the page's shared one
   * ({@link getDefaultMemoryLockServer}), so adapters made in different stories meet.
   */
  server?: MemoryLockServer;
  /** Milliseconds each answer takes, to make "acquiring…" states visible (default 0). */
  latency?: number;
}

// Never resolved or fetched: the adapter's requests go straight to the server's handler.
const MEMORY_ORIGIN = 'http://page-lock.memory.invalid';
const MEMORY_BASE_PATH = '/locks';

/**
 * A {@link LockAdapter} for one user of an in-memory lock server: no network, yet every request
 * goes through the real protocol handler (the HTTP adapter over a `fetch` that hands the
 * `Request` to the server), so it behaves exactly as the HTTP adapter against a real server.
 * The `pagehide` release skips the beacon and is handled at once.
 *
 * @example
 * const adapter = createMemoryLockAdapter({ user: { id: 'alice', name: 'Alice' } });
 * <PageLockProvider adapter={adapter}>…</PageLockProvider>
 */
export function createMemoryLockAdapter(options: MemoryLockAdapterOptions): LockAdapter {
  const { user } = options;
  if (!user || typeof user.id !== 'string' || typeof user.name !== 'string') {
    throw new Error('[page-lock] [memory-adapter] Missing option "user" ({ id, name })');
  }
  const latency = options.latency ?? 0;
  if (!Number.isFinite(latency) || latency < 0) {
    throw new RangeError('[page-lock] [memory-adapter] Option "latency" must be ≥ 0 ms');
  }
  const server = options.server ?? getDefaultMemoryLockServer();

  return createHttpLockAdapter({
    baseUrl: MEMORY_ORIGIN + MEMORY_BASE_PATH,
    sendBeacon: false,
    fetch: async (input, init) => {
      // The signal stays out of the Request: under jsdom it is jsdom's AbortSignal, which Node's
      // Request refuses. The abort is honoured around the handler instead.
      const { signal, ...requestInit } = init;
      signal?.throwIfAborted();
      if (latency > 0) await delay(latency, signal);
      const request = new Request(input, requestInit);
      const answer = server.handle(request, user, MEMORY_BASE_PATH);
      return signal ? abortable(answer, signal) : answer;
    },
  });
}

function delay(ms: number, signal: AbortSignal | null | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** As with a real fetch, an abort rejects at once even though the server may still act on it. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
