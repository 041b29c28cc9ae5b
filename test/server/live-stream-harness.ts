import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createLockHandler,
  type LockHandler,
  type LockHandlerOptions,
} from '../../server-adapter/handler/lock-handler';
import { createLocalLockFeed } from '../../server-adapter/live/local-feed';
import type { LockFeed } from '../../server-adapter/live/lock-feed';
import { toNodeHandler } from '../../server-adapter/node/to-node-handler';
import {
  createLockService,
  type LockService,
  type LockServiceOptions,
} from '../../server-adapter/service/lock-service';
import type { LockStore } from '../../server-adapter/store/lock-store';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import type { LockUser } from '../../src/protocol/protocol';
import { SseReader } from './event-stream-support';

/** The live channel's tests: a real service and store behind node:http, read with real fetch. */

export const BASE = '/api/locks';
export const alice: LockUser = { id: 'u-alice', name: 'Alice' };
export const bob: LockUser = { id: 'u-bob', name: 'Bob' };
export const carol: LockUser = { id: 'u-carol', name: 'Carol' };
const users: Record<string, LockUser> = { [alice.id]: alice, [bob.id]: bob, [carol.id]: carol };

/** The in-process feed, with a count of its live subscriptions (it keeps none itself). */
export function countedFeed(): { feed: LockFeed; listeners: () => number } {
  const feed = createLocalLockFeed();
  let listeners = 0;
  return {
    listeners: () => listeners,
    feed: {
      publish: (change) => feed.publish(change),
      close: () => feed.close(),
      subscribe(listener) {
        listeners += 1;
        const off = feed.subscribe(listener);
        let done = false;
        return () => {
          if (done) return;
          done = true;
          listeners -= 1;
          off();
        };
      },
    },
  };
}

export interface LiveServerOptions {
  store?: LockStore;
  ttl?: number;
  canTakeOver?: LockServiceOptions['canTakeOver'];
  authorize?: LockServiceOptions['authorize'];
  handler?: Partial<Omit<LockHandlerOptions, 'service' | 'basePath' | 'getUser'>>;
}

export interface LiveServer {
  origin: string;
  service: LockService;
  handler: LockHandler;
  feedListeners: () => number;
  /** `GET {base}/events?ids=…` as `user` through real fetch (no Accept override unless given). */
  open(
    ids: readonly string[],
    as: LockUser | null,
    init?: { headers?: Record<string, string>; query?: string },
  ): Promise<Response>;
  /** Opens a stream and starts reading it. */
  stream(ids: readonly string[], as: LockUser): Promise<{ response: Response; reader: SseReader }>;
  stop(): Promise<void>;
}

export function eventsQuery(ids: readonly string[]): string {
  return ids.map((id) => `ids=${encodeURIComponent(id)}`).join('&');
}

export async function startLiveServer(options: LiveServerOptions = {}): Promise<LiveServer> {
  const { feed, listeners } = countedFeed();
  const service = createLockService({
    store: options.store ?? createMemoryLockStore(),
    ttl: options.ttl ?? 60_000,
    canTakeOver: options.canTakeOver,
    authorize: options.authorize,
    feed,
  });
  const handler = createLockHandler({
    service,
    basePath: BASE,
    getUser: (request) => users[request.headers.get('X-User') ?? ''] ?? null,
    ...options.handler,
  });
  const server: Server = createServer(toNodeHandler(handler));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const open: LiveServer['open'] = (ids, as, init = {}) =>
    fetch(`${origin}${BASE}/events?${init.query ?? eventsQuery(ids)}`, {
      headers: {
        Accept: 'text/event-stream',
        ...(as ? { 'X-User': as.id } : {}),
        ...init.headers,
      },
    });
  return {
    origin,
    service,
    handler,
    feedListeners: listeners,
    open,
    async stream(ids, as) {
      const response = await open(ids, as);
      if (response.status !== 200 || !response.body) {
        throw new Error(`stream refused: ${response.status} ${await response.text()}`);
      }
      return { response, reader: new SseReader(response.body) };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
