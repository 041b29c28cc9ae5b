import { createLockHandler, type LockHandlerOptions } from '../handler/lock-handler';
import {
  createLockService,
  type LockService,
  type LockServiceOptions,
} from '../service/lock-service';

/** The path of the documented route file, `app/api/locks/[[...lock]]/route.ts`. */
export const DEFAULT_NEXT_BASE_PATH = '/api/locks';

/** The handler's options, with `basePath` defaulting to `"/api/locks"`. */
type RouteOptions = Omit<LockHandlerOptions, 'service' | 'basePath'> & { basePath?: string };

/**
 * Either the service's own options (`store`, `ttl`, `canTakeOver`, `authorize`, `onEvent`, `now`), or a
 * `service` already built (share it with the save routes that call `assertHeld`).
 */
export type LockRouteHandlersOptions = RouteOptions &
  ((LockServiceOptions & { service?: undefined }) | { service: LockService; store?: undefined });

/** A Next.js App Router route handler. The context (with Next's decoded params) is ignored. */
export type LockRouteHandler = (request: Request, context?: unknown) => Promise<Response>;

/** One handler per HTTP method, so an unknown method gets the protocol's JSON 405, not Next's. */
export interface LockRouteHandlers {
  GET: LockRouteHandler;
  POST: LockRouteHandler;
  PUT: LockRouteHandler;
  PATCH: LockRouteHandler;
  DELETE: LockRouteHandler;
  HEAD: LockRouteHandler;
  OPTIONS: LockRouteHandler;
}

/**
 * The lock protocol as Next.js App Router route handlers. Put it in an optional catch-all
 * route, so the batch GET on the base path reaches it too:
 *
 * ```ts
 * // app/api/locks/[[...lock]]/route.ts
 * import { createLockRouteHandlers } from 'page-lock/next';
 * import { createSqliteLockStore } from 'page-lock/sqlite';
 * import { getSessionUser } from '@/lib/session';
 *
 * export const runtime = 'nodejs'; // better-sqlite3 needs Node, not the Edge runtime
 * export const { GET, POST, DELETE, PUT, PATCH, HEAD, OPTIONS } = createLockRouteHandlers({
 *   store: createSqliteLockStore({ filename: 'data/locks.db' }),
 *   getUser: (request) => getSessionUser(request),
 * });
 * ```
 *
 * The same file serves the live channel (`GET /api/locks/events?ids=…` with `Accept:
 * text/event-stream`): `GET` hands the handler's streaming `Response` to Next untouched, and Next
 * streams it chunk by chunk under `next start`, aborting `request.signal` when the browser goes
 * away, which frees the stream. Nothing more is needed in the route file: GET route handlers are
 * dynamic (never cached) since Next 15, and this one reads the request anyway.
 * `export const dynamic = 'force-dynamic'` is harmless but not required. Keep `runtime = 'nodejs'`:
 * the streams' hub and its timers live in the server process.
 *
 * Next's `params` are not used: Next decodes them, which would turn an id's `%2F` into a path
 * separator. The handler reads the still-encoded path from `request.url` itself, under
 * `basePath` (default `"/api/locks"`; set it when the route lives elsewhere).
 */
export function createLockRouteHandlers(options: LockRouteHandlersOptions): LockRouteHandlers {
  const service = options.service ?? createLockService(options as LockServiceOptions);
  const handle = createLockHandler({
    ...options,
    service,
    basePath: options.basePath ?? DEFAULT_NEXT_BASE_PATH,
  });
  // The Response goes back as it is: a stream's body must reach Next unread.
  const routeHandler: LockRouteHandler = (request) => handle(request);
  return {
    GET: routeHandler,
    POST: routeHandler,
    PUT: routeHandler,
    PATCH: routeHandler,
    DELETE: routeHandler,
    HEAD: routeHandler,
    OPTIONS: routeHandler,
  };
}
