import { createLockHandler, type LockHandler } from '../../server-adapter/handler/lock-handler';
import { recheckLiveLapses } from '../../server-adapter/live/live-hub';
import type { LockEvent } from '../../server-adapter/service/events';
import { createLockService, type LockService } from '../../server-adapter/service/lock-service';
import {
  createMemoryLockStore,
  type MemoryLockStore,
} from '../../server-adapter/store/memory-store';
import type { Lock, LockAction, LockUser } from '../protocol/protocol';

/** Who is signed in for a request to the memory server: a user, nobody (→ 401), or a lookup. */
export type MemoryLockServerUser =
  | LockUser
  | null
  | ((request: Request) => LockUser | null | undefined | Promise<LockUser | null | undefined>);

export interface MemoryLockServerOptions {
  /** Lease length in ms (default 90 000, as on a real server). */
  ttl?: number;
  /** The server's clock (default `Date.now`). {@link MemoryLockServer.advance} moves it on. */
  now?: () => number;
  /** Whether `user` may take `lock` from another user (default: never). May be async. */
  canTakeOver?: (user: LockUser, lock: Lock) => boolean | Promise<boolean>;
  /** How long the first waiter has to take a page that passed to it (default 30 000). */
  queueGrace?: number;
  /** How long a request to edit waits for the holder's answer (default 120 000). */
  askTimeout?: number;
  /**
   * Per-resource authorization, as on a real server (default: allow everything). May be async.
   * A refusal is a 403; in a batch status answer the refused id is `{ status: 'forbidden' }`.
   */
  authorize?: (
    user: LockUser,
    resourceId: string,
    action: LockAction,
  ) => boolean | Promise<boolean>;
  /** The service's audit hook: see every acquire, refresh, release and takeover. */
  onEvent?: (event: LockEvent) => void;
  /** Where the real error behind a 500 goes (default `console.error`); the response hides it. */
  onError?: (error: unknown, request: Request) => void;
  /**
   * How often the event stream (`GET {base}/events`, `Accept: text/event-stream`) sends a
   * `: ping` comment, in ms (default 20 000, as on a real server).
   */
  heartbeatMs?: number;
}

/**
 * A lock server in this page's (or process's) memory that several adapters, one per user,
 * share: for Storybook, demos and tests. It is the real thing, not a fake: the lock service over
 * the memory store behind `createLockHandler`, so it answers exactly what a real server would,
 * the live channel included (`GET {base}/events?ids=…` streams server-sent events; a lease
 * that {@link MemoryLockServer.advance} lapses is sent as `lapsed` at once).
 */
export interface MemoryLockServer {
  /** The lock service: `list()` and `forceRelease()` for admin stories, `assertHeld()` for saves. */
  readonly service: LockService;
  /** The store under the service. */
  readonly store: MemoryLockStore;
  /** The server's clock: the `now` option (or `Date.now`) plus everything {@link advance}d. */
  now(): number;
  /**
   * Moves the server's clock forward by `ms`, e.g. past the TTL to show a lapsed lease. Works
   * on top of the real clock too, so a story need not inject one.
   */
  advance(ms: number): void;
  /**
   * Answers one protocol request as the server would, with `user` signed in. `basePath` is the
   * path the routes live under in `request.url`, e.g. `"/api/locks"`.
   */
  handle(request: Request, user: MemoryLockServerUser, basePath: string): Promise<Response>;
}

/**
 * Creates an in-memory lock server. Give it to {@link createMemoryLockAdapter} (one adapter per
 * user) or to `createLockHandlers` from `page-lock/msw`.
 *
 * @example
 * const server = createMemoryLockServer({ ttl: 30_000 });
 * const alice = createMemoryLockAdapter({ user: { id: 'a', name: 'Alice' }, server });
 * const bob = createMemoryLockAdapter({ user: { id: 'b', name: 'Bob' }, server });
 * server.advance(31_000); // Alice's lease lapses
 */
export function createMemoryLockServer(options: MemoryLockServerOptions = {}): MemoryLockServer {
  const baseClock = options.now ?? Date.now;
  let offset = 0;
  const now = (): number => baseClock() + offset;
  const store = createMemoryLockStore();
  const service = createLockService({
    store,
    now,
    ttl: options.ttl,
    queueGrace: options.queueGrace,
    askTimeout: options.askTimeout,
    canTakeOver: options.canTakeOver,
    authorize: options.authorize,
    onEvent: options.onEvent,
  });

  // One handler per base path; the user rides along with the very Request object, so nothing a
  // request carries (a header, a cookie) can claim to be someone else.
  const userOfRequest = new WeakMap<Request, MemoryLockServerUser>();
  const handlers = new Map<string, LockHandler>();
  const handlerFor = (basePath: string): LockHandler => {
    let handler = handlers.get(basePath);
    if (!handler) {
      handler = createLockHandler({
        service,
        basePath,
        onError: options.onError,
        heartbeatMs: options.heartbeatMs,
        getUser: (request) => {
          const user = userOfRequest.get(request) ?? null;
          return typeof user === 'function' ? user(request) : user;
        },
      });
      handlers.set(basePath, handler);
    }
    return handler;
  };

  return {
    service,
    store,
    now,
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) {
        throw new RangeError(
          '[page-lock] [memory-server] advance() takes a non-negative number of ms',
        );
      }
      offset += ms;
      // The streams' lapse timers were set by the old clock: leases it lapsed are sent now.
      if (ms > 0) recheckLiveLapses(service);
    },
    handle(request, user, basePath) {
      userOfRequest.set(request, user);
      return handlerFor(basePath)(request);
    },
  };
}

// Kept on globalThis so every copy of this module (an ESM and a CJS build, or two bundled
// entry points) hands out the same server.
const DEFAULT_SERVER_KEY = Symbol.for('page-lock.default-memory-lock-server');

/**
 * The page's shared memory lock server, created on first use with the default options: what
 * {@link createMemoryLockAdapter} and `page-lock/msw` use when no `server` is given, so every
 * story on a page (and every user in it) sees the same locks.
 */
export function getDefaultMemoryLockServer(): MemoryLockServer {
  const holder = globalThis as { [DEFAULT_SERVER_KEY]?: MemoryLockServer };
  holder[DEFAULT_SERVER_KEY] ??= createMemoryLockServer();
  return holder[DEFAULT_SERVER_KEY];
}
