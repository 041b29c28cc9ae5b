import {
  type BatchStatusEntry,
  type BatchStatusResponse,
  type ErrorCode,
  type HeldResponse,
  type Lock,
  type LockedResponse,
  type LostReason,
  type LostResponse,
  MAX_BATCH_IDS,
  PROTOCOL_VERSION,
  PROTOCOL_VERSION_HEADER,
  resourceIdProblem,
  type StatusResponse,
} from '../protocol/protocol';
import {
  type AdapterCallOptions,
  type LockAdapter,
  LockAdapterError,
  type ReleaseOutcome,
  type TakeOverRefused,
} from './adapter';

/** The part of `fetch` the adapter uses; `globalThis.fetch` and MSW-patched fetches fit. */
export type LockFetch = (input: string, init: RequestInit) => Promise<Response>;

/** `navigator.sendBeacon`'s shape. */
export type LockBeacon = (url: string, data: Blob) => boolean;

/** Extra request headers (CSRF tokens, auth), or a function that gives them per request. */
export type LockRequestHeaders =
  | HeadersInit
  | (() => HeadersInit | undefined | Promise<HeadersInit | undefined>);

export interface HttpLockAdapterOptions {
  /**
   * Where the lock routes live, e.g. `/api/locks` (relative URLs resolve against the page, as
   * `fetch` does) or `https://example.com/api/locks`. A trailing slash is ignored.
   */
  baseUrl: string;
  /** The fetch to use. Default: `globalThis.fetch`, looked up on every call (so MSW can patch it). */
  fetch?: LockFetch;
  /**
   * Headers sent with every request except the `pagehide` release, which carries none (a beacon
   * cannot): its token alone authorizes it. A function runs before each request.
   */
  headers?: LockRequestHeaders;
  /**
   * How the `pagehide` release is sent. Default: `navigator.sendBeacon` when there is one,
   * looked up on every call. `false` skips the beacon and always uses `fetch` with `keepalive`.
   */
  sendBeacon?: LockBeacon | false;
}

const PART = '[page-lock] [http-adapter]';
const LOST_REASONS: readonly LostReason[] = [
  'released',
  'taken-over',
  'expired',
  'edited-meanwhile',
];

/**
 * A {@link LockAdapter} that speaks DESIGN.md's wire protocol over `fetch`, to a server built
 * with `createLockHandler` (`page-lock/server`) or `createLockRouteHandlers` (`page-lock/next`).
 *
 * @example
 * const adapter = createHttpLockAdapter({
 *   baseUrl: '/api/locks',
 *   headers: () => ({ 'X-CSRF-Token': readCsrfToken() }),
 * });
 */
export function createHttpLockAdapter(options: HttpLockAdapterOptions): LockAdapter {
  if (typeof options?.baseUrl !== 'string' || options.baseUrl === '') {
    throw new Error(`${PART} Missing option "baseUrl", e.g. "/api/locks"`);
  }
  const base = options.baseUrl.replace(/\/+$/, '');
  // Called as a plain function: browsers throw "Illegal invocation" when fetch gets another `this`.
  const customFetch = options.fetch;
  const doFetch: LockFetch = (input, init) =>
    customFetch ? customFetch(input, init) : globalThis.fetch(input, init);

  const lockUrl = (resourceId: string, action?: 'release' | 'takeover'): string =>
    `${base}/${encodeURIComponent(resourceId)}${action ? `/${action}` : ''}`;

  const send = async (
    method: 'GET' | 'POST',
    url: string,
    body: object | undefined,
    signal: AbortSignal | undefined,
  ): Promise<ProtocolAnswer> => {
    signal?.throwIfAborted();
    const headers = new Headers(await resolveHeaders(options.headers));
    signal?.throwIfAborted();
    if (!headers.has('Accept')) headers.set('Accept', 'application/json');
    if (body !== undefined) headers.set('Content-Type', 'application/json');
    // No `cache` option: the server's `Cache-Control: no-store` suffices, and some runtimes reject it.
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = JSON.stringify(body);
    if (signal) init.signal = signal;
    const what = `${method} ${url}`;
    try {
      const response = await doFetch(url, init);
      return await readAnswer(response, what);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof LockAdapterError) throw error;
      throw new LockAdapterError('network', `${PART} ${what} failed: no answer from the server`, {
        cause: error,
      });
    }
  };

  const beacon = (): LockBeacon | null => {
    if (options.sendBeacon === false) return null;
    if (options.sendBeacon) return options.sendBeacon;
    const nav = globalThis.navigator as Navigator | undefined;
    if (typeof nav?.sendBeacon !== 'function') return null;
    return (url, data) => nav.sendBeacon(url, data);
  };

  // The page is going away: nothing waits for an answer, and a request that needs a CORS
  // preflight may never leave, so this is the same simple text/plain POST as the beacon.
  const releaseOnPageHide = (resourceId: string, token: string): ReleaseOutcome => {
    const url = lockUrl(resourceId, 'release');
    const payload = JSON.stringify({ token });
    const sendBeacon = beacon();
    let queued = false;
    try {
      queued = sendBeacon?.(url, new Blob([payload], { type: 'text/plain' })) ?? false;
    } catch {
      // A beacon can throw (e.g. a URL it refuses); the keepalive fetch below still tries.
    }
    if (!queued) {
      try {
        doFetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
          body: payload,
          keepalive: true,
        }).catch(() => {
          // Nobody is left to tell; the lease lapses on its own after the TTL.
        });
      } catch {
        // Same: a fetch that throws synchronously leaves only the TTL.
      }
    }
    return 'released';
  };

  return {
    async acquire(resourceId, { clientId, token }, callOptions?: AdapterCallOptions) {
      checkResourceId(resourceId);
      const body = token === undefined ? { clientId } : { clientId, token };
      const answer = await send('POST', lockUrl(resourceId), body, callOptions?.signal);
      switch (answer.status) {
        case 200:
          return expectBody(answer, isHeldResponse);
        case 423:
          return expectBody(answer, isLockedResponse);
        case 409:
          return withoutNullLock(expectBody(answer, isLostResponse));
        default:
          throw unexpected(answer);
      }
    },

    async release(resourceId, token, releaseOptions) {
      checkResourceId(resourceId);
      if (releaseOptions?.keepalive) return releaseOnPageHide(resourceId, token);
      const answer = await send('POST', lockUrl(resourceId, 'release'), { token }, undefined);
      if (answer.status === 204) return 'released';
      if (answer.status === 409) return 'not-holder';
      throw unexpected(answer);
    },

    async takeOver(resourceId, { clientId, expectedFence }, callOptions?: AdapterCallOptions) {
      checkResourceId(resourceId);
      const url = lockUrl(resourceId, 'takeover');
      const answer = await send('POST', url, { clientId, expectedFence }, callOptions?.signal);
      if (answer.status === 200) return expectBody(answer, isHeldResponse);
      const code = errorCodeOf(answer.body);
      if (
        (answer.status === 409 && code === 'fence-mismatch') ||
        (answer.status === 403 && code === 'forbidden')
      ) {
        return refusal(answer, code);
      }
      throw unexpected(answer);
    },

    async status(resourceId, request, callOptions?: AdapterCallOptions) {
      checkResourceId(resourceId);
      const query = request?.clientId ? `?clientId=${encodeURIComponent(request.clientId)}` : '';
      const answer = await send('GET', lockUrl(resourceId) + query, undefined, callOptions?.signal);
      if (answer.status === 200) return expectBody(answer, isStatusResponse);
      throw unexpected(answer);
    },

    async statusMany(resourceIds, request, callOptions?: AdapterCallOptions) {
      if (resourceIds.length === 0) {
        // The server answers 400 too; a list view with nothing in it has nothing to observe.
        throw new RangeError(`${PART} statusMany() needs at least one id`);
      }
      if (resourceIds.length > MAX_BATCH_IDS) {
        throw new RangeError(
          `${PART} statusMany() takes at most ${MAX_BATCH_IDS} ids per request; got ${resourceIds.length}. Split the list.`,
        );
      }
      for (const id of resourceIds) checkResourceId(id);
      const params = new URLSearchParams();
      for (const id of resourceIds) params.append('ids', id);
      if (request?.clientId) params.set('clientId', request.clientId);
      const search = params.toString();
      const query = search === '' ? '' : `?${search}`;
      const answer = await send('GET', base + query, undefined, callOptions?.signal);
      if (answer.status === 200) return expectBody(answer, isBatchStatusResponse);
      throw unexpected(answer);
    },
  };
}

/** A response that passed the version check, with its JSON body (undefined for a 204). */
interface ProtocolAnswer {
  status: number;
  body: unknown;
  what: string;
}

async function readAnswer(response: Response, what: string): Promise<ProtocolAnswer> {
  // An absent header is tolerated: cross-origin servers expose it only when they list it in
  // Access-Control-Expose-Headers. A body that is not the protocol is caught below anyway.
  const version = response.headers.get(PROTOCOL_VERSION_HEADER);
  if (version !== null && version !== PROTOCOL_VERSION) {
    throw new LockAdapterError(
      'protocol',
      `${PART} ${what}: the server speaks page-lock protocol ${version}, this client speaks ${PROTOCOL_VERSION}; update the client and the server together`,
      { status: response.status },
    );
  }
  const text = await response.text();
  if (text === '') return { status: response.status, body: undefined, what };
  try {
    return { status: response.status, body: JSON.parse(text) as unknown, what };
  } catch (cause) {
    if (response.ok || response.status === 409 || response.status === 423) {
      throw new LockAdapterError(
        'protocol',
        `${PART} ${what} answered ${response.status} with a body that is not JSON`,
        { status: response.status, cause },
      );
    }
    // A proxy's HTML error page: the status is what matters.
    return { status: response.status, body: undefined, what };
  }
}

function expectBody<T>(answer: ProtocolAnswer, isValid: (body: unknown) => body is T): T {
  if (isValid(answer.body)) return answer.body;
  throw new LockAdapterError(
    'protocol',
    `${PART} ${answer.what} answered ${answer.status} with a body that is not the page-lock protocol`,
    { status: answer.status },
  );
}

/** The error for any status the protocol does not give the call as an answer. */
function unexpected(answer: ProtocolAnswer): LockAdapterError {
  const code = errorCodeOf(answer.body);
  const message = errorMessageOf(answer.body);
  const detail = code ? ` ${code}${message ? `: ${message}` : ''}` : '';
  return new LockAdapterError(
    'http',
    `${PART} ${answer.what} answered ${answer.status}${detail}`,
    code === undefined ? { status: answer.status } : { status: answer.status, code },
  );
}

function refusal(answer: ProtocolAnswer, reason: TakeOverRefused['reason']): TakeOverRefused {
  const body = answer.body as { lock?: unknown; now?: unknown };
  const hasLock = body.lock !== undefined && body.lock !== null;
  if (typeof body.now !== 'number' || (hasLock && !isLock(body.lock))) {
    throw new LockAdapterError(
      'protocol',
      `${PART} ${answer.what} answered ${answer.status} with a body that is not the page-lock protocol`,
      { status: answer.status },
    );
  }
  return hasLock
    ? { status: 'refused', reason, lock: body.lock as Lock, now: body.now }
    : { status: 'refused', reason, now: body.now };
}

async function resolveHeaders(headers: LockRequestHeaders | undefined): Promise<HeadersInit> {
  const resolved = typeof headers === 'function' ? await headers() : headers;
  return resolved ?? {};
}

function checkResourceId(resourceId: string): void {
  const problem = resourceIdProblem(resourceId);
  if (problem) throw new TypeError(`${PART} resourceId ${problem}`);
}

function errorCodeOf(body: unknown): ErrorCode | undefined {
  if (!isObject(body) || !isObject(body.error)) return undefined;
  return typeof body.error.code === 'string' ? (body.error.code as ErrorCode) : undefined;
}

function errorMessageOf(body: unknown): string | undefined {
  if (!isObject(body) || !isObject(body.error)) return undefined;
  return typeof body.error.message === 'string' ? body.error.message : undefined;
}

// Shape checks: enough to tell a protocol answer from anything else that answered on that URL.

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isLock(value: unknown): value is Lock {
  return (
    isObject(value) &&
    typeof value.resourceId === 'string' &&
    isObject(value.holder) &&
    typeof value.holder.id === 'string' &&
    typeof value.holder.name === 'string' &&
    typeof value.since === 'number' &&
    typeof value.acquiredAt === 'number' &&
    typeof value.expiresAt === 'number' &&
    typeof value.fence === 'number'
  );
}

function isHeldResponse(body: unknown): body is HeldResponse {
  return (
    isObject(body) &&
    body.status === 'held' &&
    isLock(body.lock) &&
    typeof body.token === 'string' &&
    typeof body.ttlMs === 'number' &&
    typeof body.now === 'number'
  );
}

function isLockedResponse(body: unknown): body is LockedResponse {
  return (
    isObject(body) &&
    body.status === 'locked' &&
    isLock(body.lock) &&
    typeof body.isSelf === 'boolean' &&
    typeof body.canTakeOver === 'boolean' &&
    typeof body.ttlMs === 'number' &&
    typeof body.now === 'number'
  );
}

function isLostResponse(body: unknown): body is LostResponse {
  return (
    isObject(body) &&
    body.status === 'lost' &&
    LOST_REASONS.includes(body.reason as LostReason) &&
    (body.lock === undefined || body.lock === null || isLock(body.lock)) &&
    (body.isSelf === undefined || typeof body.isSelf === 'boolean') &&
    typeof body.now === 'number'
  );
}

/**
 * `lock: null` (nobody holds it) is told as no `lock` at all, as the protocol's type says, and
 * `isSelf` only comes with a lock.
 */
function withoutNullLock(response: LostResponse): LostResponse {
  if (response.lock !== null && response.lock !== undefined) return response;
  const { lock: _none, isSelf: _alone, ...rest } = response;
  return rest;
}

function isStatusResponse(body: unknown): body is StatusResponse {
  if (!isObject(body) || typeof body.now !== 'number' || typeof body.ttlMs !== 'number') {
    return false;
  }
  if (body.status === 'free') return true;
  return (
    (body.status === 'locked' || body.status === 'held') &&
    isLock(body.lock) &&
    typeof body.isSelf === 'boolean' &&
    typeof body.canTakeOver === 'boolean'
  );
}

function isBatchEntry(value: unknown): value is BatchStatusEntry {
  if (!isObject(value)) return false;
  // `forbidden`: the server's `authorize` refused this id; the rest of the batch is answered.
  if (value.status === 'free' || value.status === 'forbidden') return true;
  return (
    (value.status === 'locked' || value.status === 'held') &&
    isLock(value.lock) &&
    typeof value.isSelf === 'boolean'
  );
}

function isBatchStatusResponse(body: unknown): body is BatchStatusResponse {
  return (
    isObject(body) &&
    typeof body.now === 'number' &&
    typeof body.ttlMs === 'number' &&
    isObject(body.locks) &&
    Object.values(body.locks).every(isBatchEntry)
  );
}
