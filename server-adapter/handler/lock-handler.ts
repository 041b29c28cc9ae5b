import { type Lock, type LockUser, MAX_QUEUE_LENGTH } from '../../src/protocol/protocol';
import { DEFAULT_HEARTBEAT_MS, openEventStream } from '../live/event-stream';
import { createLiveHub } from '../live/live-hub';
import type { HeldResult, LockService } from '../service/lock-service';
import { lockErrorResponse } from './lock-error-response';
import { createOriginPolicy, crossSiteRefusal } from './origin-check';
import {
  type BodyLimits,
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
  readJsonBody,
} from './read-body';
import { LockRequestError } from './request-error';
import {
  answerChoice,
  expectedFence,
  optionalId,
  optionalMessage,
  optionalRenew,
  queryClientId,
  queryIds,
  releaseReason,
  requiredId,
} from './request-fields';
import { errorBody, jsonResponse, noContentResponse } from './responses';
import {
  ALLOWED_METHODS,
  decodeResourceId,
  isEventStreamRequest,
  type LockRoute,
  matchRoute,
  methodNotAllowed,
  normalizeBasePath,
  splitRequestUrl,
} from './routes';

/** What {@link createLockHandler} needs: the service, the session lookup and where it lives. */
export interface LockHandlerOptions {
  /** The lock service (`createLockService`) the handler speaks for. */
  service: LockService;
  /**
   * The application's own session lookup: the signed-in user, or null (→ 401). The user never
   * comes from the request body. Not called for releases: the token alone authorizes those.
   * Asking, answering and leaving the line need a session like acquiring does.
   */
  getUser: (request: Request) => LockUser | null | undefined | Promise<LockUser | null | undefined>;
  /** Where the routes live, e.g. `"/api/locks"` (matched against the request URL's path). */
  basePath: string;
  /**
   * Other origins allowed to change locks, e.g. `["https://admin.example.com"]`. The app's own
   * origin needs no entry: browsers say `Sec-Fetch-Site: same-origin`, and without that header
   * `Origin` is compared with the `Host` header.
   */
  allowedOrigins?: readonly string[];
  /**
   * The app sits behind a proxy it trusts, which sets `X-Forwarded-Host` (and
   * `X-Forwarded-Proto`): without `Sec-Fetch-Site`, `Origin` is compared with those instead of
   * `Host` (default false: anyone can send them).
   */
  trustProxy?: boolean;
  /** Bodies larger than this are refused with 413 (default 8 KiB). */
  maxBodyBytes?: number;
  /** A body not read to its end within this many ms is refused with 408 (default 10 000). */
  bodyTimeoutMs?: number;
  /** Where the real error of a 500 goes (default `console.error`); the response hides it. */
  onError?: (error: unknown, request: Request) => void;
  /**
   * How often an event stream (`GET {base}/events`) sends a `: ping` comment, in ms (default
   * 20 000: proxies close connections silent for 30–60 s).
   */
  heartbeatMs?: number;
  /**
   * Event streams this handler keeps open at most (default 10 000); one more is answered 503
   * `busy` with `Retry-After`, and the tab polls meanwhile.
   */
  maxStreams?: number;
}

/** Open event streams one handler allows unless `maxStreams` says otherwise. */
export const DEFAULT_MAX_STREAMS = 10_000;
/** Seconds a stream refused for `maxStreams` is told to wait (`Retry-After`). */
const STREAMS_FULL_RETRY_AFTER_S = 10;

/** A Web-standard request handler: any runtime with `Request`/`Response`. */
export type LockHandler = (request: Request) => Promise<Response>;

/**
 * Serves DESIGN.md's wire protocol under `basePath`:
 *
 * | request | answer |
 * | --- | --- |
 * | `POST {base}/{id}` `{ clientId, token? }` | acquire, reclaim, refresh, resume: 200 / 423 / 409 |
 * | `POST {base}/{id}/release`, `DELETE {base}/{id}` `{ token }` | 204 / 409 (no session needed) |
 * | `POST {base}/{id}/takeover` `{ clientId, expectedFence }` | 200 / 409 / 403 |
 * | `POST {base}/{id}/ask` `{ clientId, message?, renew? }` | ask to edit: 200 queued or held / 409 / 400 / 403 / 501 |
 * | `POST {base}/{id}/answer` `{ token, waiterId, answer }` | the holder hands over or declines: 200 / 409 |
 * | `POST {base}/{id}/leave` `{ clientId }` | leave the line (a beacon too): 204 |
 * | `GET {base}/{id}?clientId=`, `GET {base}?ids=a&ids=b` | 200 |
 * | `GET {base}/events?ids=a&ids=b` with `Accept: text/event-stream` | 200 server-sent events |
 *
 * Ids are read from the raw URL path, one `encodeURIComponent`-ed segment each, so an id may
 * hold `/`. Anything else is a JSON error: 400 (the field is named), 401, 403 (cross-site), 404,
 * 405 (with `Allow`; HEAD and OPTIONS included: the protocol has no use for them and CORS
 * preflights are not served), 413, 500, 501 (asking to edit, on a store without a line). Every response carries `now`,
 * `Cache-Control: no-store` and `Page-Lock-Version`.
 *
 * Imports nothing from any framework; `page-lock/next` wraps it for the App Router.
 */
export function createLockHandler(options: LockHandlerOptions): LockHandler {
  const { service, getUser } = options;
  if (!service) throw new Error('[page-lock] [handler] Missing option "service"');
  if (typeof getUser !== 'function') {
    throw new Error('[page-lock] [handler] Missing option "getUser" (the session lookup)');
  }
  const basePath = normalizeBasePath(options.basePath);
  const originPolicy = createOriginPolicy(options.allowedOrigins, options.trustProxy);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new Error('[page-lock] [handler] Option "maxBodyBytes" must be a positive integer');
  }
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  if (!Number.isSafeInteger(bodyTimeoutMs) || bodyTimeoutMs <= 0) {
    throw new Error('[page-lock] [handler] Option "bodyTimeoutMs" must be a positive integer');
  }
  const bodyLimits: BodyLimits = { maxBytes: maxBodyBytes, timeoutMs: bodyTimeoutMs };
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  if (!Number.isSafeInteger(heartbeatMs) || heartbeatMs <= 0 || heartbeatMs > 2_147_483_647) {
    throw new Error(
      '[page-lock] [handler] Option "heartbeatMs" must be a positive integer of ms (e.g. 20000)',
    );
  }
  const maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS;
  if (!Number.isSafeInteger(maxStreams) || maxStreams < 0) {
    throw new Error('[page-lock] [handler] Option "maxStreams" must be a non-negative integer');
  }
  const report = (error: unknown, request: Request): void => {
    try {
      const returned: unknown = options.onError
        ? options.onError(error, request)
        : console.error('[page-lock] [live] A look for the event streams failed:', error);
      if (typeof (returned as PromiseLike<unknown> | null)?.then === 'function') {
        Promise.resolve(returned).catch(() => {});
      }
    } catch {
      // A failing logger must not stop the streams.
    }
  };
  // The streams' hub: one feed subscription for every stream of this handler, taken lazily.
  // A look fails outside any request: it is reported with a placeholder request.
  const hub = createLiveHub({
    service,
    maxStreams,
    onError: (error) => report(error, new Request(`http://page-lock.invalid${basePath}/events`)),
  });

  // An answer must go out even when the clock broke (that error is what it reports).
  const clock = (): number => {
    try {
      return service.now();
    } catch {
      return Date.now();
    }
  };
  // Answers to changes carry the `now` they were decided at (the store's clock when it has one).
  const json = (status: number, body: { now?: number; [key: string]: unknown }): Response =>
    jsonResponse(status, { ...body, now: body.now ?? clock() });
  const fail = (
    status: number,
    error: Pick<LockRequestError, 'code' | 'message'> & { lock?: Lock | null },
    headers: Record<string, string> = {},
  ): Response =>
    jsonResponse(
      status,
      errorBody(error.code, error.message, clock(), { lock: error.lock }),
      headers,
    );

  const requireUser = async (request: Request): Promise<LockUser> => {
    const user = await getUser(request);
    if (user === null || user === undefined) {
      throw new LockRequestError(401, 'unauthorized', '[page-lock] Sign in to use page locks');
    }
    if (typeof user.id !== 'string' || user.id === '' || typeof user.name !== 'string') {
      // The application's bug, not the client's: a 500, reported through onError.
      throw new Error(
        '[page-lock] [handler] getUser() must return { id: string, name: string } or null',
      );
    }
    return user;
  };

  const held = (result: HeldResult): Response => {
    const { lock, token, ttlMs, via, waiters, now } = result;
    return jsonResponse(200, {
      status: 'held',
      lock,
      token,
      ttlMs,
      ...(via === 'resumed' ? { resumed: true } : {}),
      ...(waiters ? { waiters } : {}),
      now,
    });
  };

  const release = async (request: Request, encodedId: string): Promise<Response> => {
    const resourceId = decodeResourceId(encodedId);
    const body = await readJsonBody(request, bodyLimits);
    const token = requiredId(body, 'token');
    const reason = releaseReason(body);
    const result = await service.release(resourceId, token, reason ? { reason } : undefined);
    if (result.status !== 'not-holder') return noContentResponse();
    // A release needs no session, so it shows no lock: only that the token is not the holder's.
    return fail(409, { code: 'not-holder', message: '[page-lock] Someone else holds this lock' });
  };

  const ask = async (
    resourceId: string,
    user: LockUser,
    body: Record<string, unknown>,
  ): Promise<Response> => {
    const result = await service.ask(resourceId, user, {
      clientId: requiredId(body, 'clientId'),
      message: optionalMessage(body),
      renew: optionalRenew(body),
    });
    switch (result.status) {
      case 'queued': {
        const { lock, place, waiter, ttlMs, now } = result;
        return jsonResponse(200, { status: 'queued', lock, place, waiter, ttlMs, now });
      }
      case 'held':
        return held(result);
      case 'not-locked':
        return fail(409, {
          code: 'not-locked',
          message: '[page-lock] Nobody holds this page: acquire it instead',
        });
      case 'queue-full':
        return fail(409, {
          code: 'queue-full',
          message: `[page-lock] ${MAX_QUEUE_LENGTH} tabs already wait for this page; try again later`,
          lock: result.lock,
        });
      case 'self':
        return fail(400, {
          code: 'bad-request',
          message: '[page-lock] This user holds the page in another tab: edit here instead',
          lock: result.lock,
        });
    }
  };

  const answer = async (
    resourceId: string,
    user: LockUser,
    body: Record<string, unknown>,
  ): Promise<Response> => {
    const result = await service.answer(resourceId, user, {
      token: requiredId(body, 'token'),
      waiterId: requiredId(body, 'waiterId'),
      answer: answerChoice(body),
    });
    switch (result.status) {
      case 'handed-over':
        return jsonResponse(200, { status: 'handed-over', lock: result.lock, now: result.now });
      case 'declined':
        return jsonResponse(200, { status: 'declined', waiters: result.waiters, now: result.now });
      case 'not-holder':
        return fail(409, {
          code: 'not-holder',
          message: '[page-lock] Only the holder answers, with its live token',
          lock: result.lock,
        });
      case 'not-queued':
        return fail(409, {
          code: 'not-queued',
          message: '[page-lock] Nobody in line has this waiterId: it left, or its place lapsed',
          lock: result.lock,
        });
    }
  };

  // Answered 204 whether the tab had a place or not: a beacon reads no answer anyway.
  const leave = async (
    resourceId: string,
    user: LockUser,
    body: Record<string, unknown>,
  ): Promise<Response> => {
    await service.leave(resourceId, user, requiredId(body, 'clientId'));
    return noContentResponse();
  };

  // Everything is checked before the stream starts: a bad request is a JSON 4xx, not a stream.
  const eventStream = async (
    request: Request,
    search: string,
    user: LockUser,
  ): Promise<Response> => {
    const ids = queryIds(new URLSearchParams(search));
    if (!hub.admitStream()) {
      const message = `[page-lock] This server has ${maxStreams} event streams open; poll, and try again later`;
      return fail(
        503,
        { code: 'busy', message },
        { 'Retry-After': String(STREAMS_FULL_RETRY_AFTER_S) },
      );
    }
    return openEventStream({ hub, user, ids, request, heartbeatMs });
  };

  const route = async (request: Request, search: string, match: LockRoute): Promise<Response> => {
    const method = request.method.toUpperCase();
    if (!ALLOWED_METHODS[match.kind].includes(method)) throw methodNotAllowed(method, match);
    const refusal = method === 'GET' ? null : crossSiteRefusal(request, originPolicy);
    if (refusal !== null) throw new LockRequestError(403, 'cross-site', refusal);
    if (match.kind === 'release') return release(request, match.encodedId);
    if (match.kind === 'lock' && method === 'DELETE') return release(request, match.encodedId);

    const user = await requireUser(request);
    if (isEventStreamRequest(request, match)) return eventStream(request, search, user);
    if (match.kind === 'batch') {
      const params = new URLSearchParams(search);
      const ids = queryIds(params);
      const clientId = queryClientId(params);
      const locks = await service.getMany(ids, { user, clientId });
      return json(200, { locks, ttlMs: service.ttl });
    }
    const resourceId = decodeResourceId(match.encodedId);
    if (method === 'GET') {
      const clientId = queryClientId(new URLSearchParams(search));
      return json(200, await service.get(resourceId, { user, clientId }));
    }
    const body = await readJsonBody(request, bodyLimits);
    if (match.kind === 'ask') return ask(resourceId, user, body);
    if (match.kind === 'answer') return answer(resourceId, user, body);
    if (match.kind === 'leave') return leave(resourceId, user, body);
    const clientId = requiredId(body, 'clientId');
    if (match.kind === 'takeover') {
      const result = await service.takeOver(resourceId, user, {
        clientId,
        expectedFence: expectedFence(body),
      });
      if (result.status === 'held') return held(result);
      if (result.status === 'fence-mismatch') {
        const message = '[page-lock] The lock changed hands since you saw it; look again';
        return fail(409, { code: 'fence-mismatch', message, lock: result.lock });
      }
      const message = '[page-lock] You may not take this lock over';
      return fail(403, { code: 'forbidden', message, lock: result.lock });
    }

    const result = await service.acquire(resourceId, user, {
      clientId,
      token: optionalId(body, 'token'),
    });
    switch (result.status) {
      case 'held':
        return held(result);
      case 'locked':
        return json(423, { ...result });
      case 'lost': {
        const { reason, lock, isSelf, now } = result;
        return json(409, { status: 'lost', reason, ...(lock ? { lock, isSelf } : {}), now });
      }
    }
  };

  return async (request) => {
    try {
      const { pathname, search } = splitRequestUrl(request.url);
      const match = matchRoute(pathname, basePath);
      if (!match) {
        throw new LockRequestError(404, 'not-found', `[page-lock] No lock route at ${pathname}`);
      }
      return await route(request, search, match);
    } catch (error) {
      if (error instanceof LockRequestError) return fail(error.status, error, error.headers);
      return lockErrorResponse(error, {
        now: clock,
        onError: options.onError && ((reported) => options.onError?.(reported, request)),
      });
    }
  };
}
