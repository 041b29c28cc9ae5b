import { EVENTS_PATH } from '../protocol/live';
import { MAX_BATCH_IDS, resourceIdProblem } from '../protocol/protocol';
import { type AdapterCallOptions, type LockAdapter, LockAdapterError } from './adapter';
import {
  errorCodeOf,
  expectBody,
  type Guard,
  isAnswerResponse,
  isAskResponse,
  isBatchStatusResponse,
  isHeldResponse,
  isLockedResponse,
  isLostResponse,
  isStatusResponse,
  PART,
  type ProtocolAnswer,
  readAnswer,
  refusal,
  unexpected,
  withoutNullLock,
} from './http-answer';
import { createLockStream, type LockStream } from './lock-stream';

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
  /**
   * The live channel (`GET {base}/events`): one stream per adapter, for every lock the tab
   * watches, so hand-overs arrive at once. Default `true`; `false` polls alone (a server without
   * the stream is noticed anyway, and polled).
   */
  live?: boolean;
}

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
  const doFetch: LockFetch = (input, init) => (options.fetch ?? globalThis.fetch)(input, init);

  /** The URL of one resource's route (checked first), e.g. `{base}/{id}/release`. */
  const lockUrl = (resourceId: string, action = ''): string => {
    const problem = resourceIdProblem(resourceId);
    if (problem) throw new TypeError(`${PART} resourceId ${problem}`);
    return `${base}/${encodeURIComponent(resourceId)}${action}`;
  };

  const send = async (
    url: string,
    body: object | undefined,
    signal: AbortSignal | undefined,
  ): Promise<ProtocolAnswer> => {
    const method = body ? 'POST' : 'GET';
    signal?.throwIfAborted();
    const { headers: given } = options;
    const headers = new Headers((typeof given === 'function' ? await given() : given) ?? {});
    signal?.throwIfAborted();
    if (!headers.has('Accept')) headers.set('Accept', 'application/json');
    // No `cache` option: the server's `Cache-Control: no-store` suffices, and some runtimes reject it.
    const init: RequestInit = { method, headers };
    if (body) {
      headers.set('Content-Type', 'application/json');
      init.body = JSON.stringify(body);
    }
    if (signal) init.signal = signal;
    const what = `${method} ${url}`;
    try {
      return await readAnswer(await doFetch(url, init), what);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof LockAdapterError) throw error;
      throw new LockAdapterError('network', `${PART} ${what} failed: no answer from the server`, {
        cause: error,
      });
    }
  };

  // The page is going away: nothing waits for an answer, and a request that needs a CORS
  // preflight may never leave, so this is the same simple text/plain POST as the beacon.
  const sendOnPageHide = (url: string, body: object): void => {
    const payload = JSON.stringify(body);
    const nav = globalThis.navigator as Navigator | undefined;
    const sendBeacon =
      options.sendBeacon ??
      (typeof nav?.sendBeacon === 'function' &&
        ((to: string, data: Blob) => nav.sendBeacon(to, data)));
    let queued = false;
    try {
      queued = !!sendBeacon && sendBeacon(url, new Blob([payload], { type: 'text/plain' }));
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
  };

  // One stream per adapter (a tab's sessions and badges share it), opened on the first watch.
  let stream: LockStream | undefined;
  const watch: LockAdapter['watch'] = (resourceId, listener) => {
    lockUrl(resourceId);
    stream ??= createLockStream({
      url: (ids) =>
        `${base}/${EVENTS_PATH}?${ids.map((id) => `ids=${encodeURIComponent(id)}`).join('&')}`,
      fetch: doFetch,
      headers: async () => {
        const given = options.headers;
        return typeof given === 'function' ? await given() : given;
      },
    });
    return stream.watch(resourceId, listener);
  };

  return {
    ...(options.live === false ? {} : { watch }),
    async acquire(resourceId, { clientId, token }, callOptions?: AdapterCallOptions) {
      const body = token === undefined ? { clientId } : { clientId, token };
      const answer = await send(lockUrl(resourceId), body, callOptions?.signal);
      const { status } = answer;
      if (status === 200) return expectBody(answer, isHeldResponse);
      if (status === 423) return expectBody(answer, isLockedResponse);
      if (status === 409) return withoutNullLock(expectBody(answer, isLostResponse));
      throw unexpected(answer);
    },

    async release(resourceId, token, releaseOptions) {
      const url = lockUrl(resourceId, '/release');
      const reason = releaseOptions?.reason;
      const body = reason === undefined ? { token } : { token, reason };
      if (releaseOptions?.keepalive) {
        sendOnPageHide(url, body);
        return 'released';
      }
      const answer = await send(url, body, undefined);
      if (answer.status === 204) return 'released';
      if (answer.status === 409) return 'not-holder';
      throw unexpected(answer);
    },

    async ask(resourceId, { clientId, message, renew }, callOptions?: AdapterCallOptions) {
      const body = {
        clientId,
        ...(message === undefined ? {} : { message }),
        ...(renew ? { renew: true } : {}),
      };
      const answer = await send(lockUrl(resourceId, '/ask'), body, callOptions?.signal);
      // 409 `not-locked` (acquire instead), `queue-full` and 501 `not-supported` reject alike.
      return expectOk(answer, isAskResponse);
    },

    async answer(
      resourceId,
      { token, waiterId, answer: choice },
      callOptions?: AdapterCallOptions,
    ) {
      const url = lockUrl(resourceId, '/answer');
      const answer = await send(url, { token, waiterId, answer: choice }, callOptions?.signal);
      return expectOk(answer, isAnswerResponse);
    },

    async leave(resourceId, clientId, leaveOptions) {
      const url = lockUrl(resourceId, '/leave');
      if (leaveOptions?.keepalive) {
        sendOnPageHide(url, { clientId });
        return;
      }
      const answer = await send(url, { clientId }, undefined);
      if (answer.status !== 204) throw unexpected(answer);
    },

    async takeOver(resourceId, { clientId, expectedFence }, callOptions?: AdapterCallOptions) {
      const url = lockUrl(resourceId, '/takeover');
      const answer = await send(url, { clientId, expectedFence }, callOptions?.signal);
      const { status } = answer;
      if (status === 200) return expectBody(answer, isHeldResponse);
      const code = errorCodeOf(answer.body);
      if (
        (status === 409 && code === 'fence-mismatch') ||
        (status === 403 && code === 'forbidden')
      ) {
        return refusal(answer, code);
      }
      throw unexpected(answer);
    },

    async status(resourceId, request, callOptions?: AdapterCallOptions) {
      const query = request?.clientId ? `?clientId=${encodeURIComponent(request.clientId)}` : '';
      return expectOk(
        await send(lockUrl(resourceId) + query, undefined, callOptions?.signal),
        isStatusResponse,
      );
    },

    async statusMany(resourceIds, request, callOptions?: AdapterCallOptions) {
      const count = resourceIds.length;
      if (count === 0 || count > MAX_BATCH_IDS) {
        // The server answers 400 too; a list view with nothing in it has nothing to observe.
        throw new RangeError(
          count
            ? `${PART} statusMany() takes at most ${MAX_BATCH_IDS} ids per request; got ${count}. Split the list.`
            : `${PART} statusMany() needs at least one id`,
        );
      }
      const params = new URLSearchParams();
      for (const id of resourceIds) {
        lockUrl(id);
        params.append('ids', id);
      }
      if (request?.clientId) params.set('clientId', request.clientId);
      return expectOk(
        await send(`${base}?${params}`, undefined, callOptions?.signal),
        isBatchStatusResponse,
      );
    },
  };
}

/** A 200 whose body `check` accepts; any other status is an error. */
function expectOk<T>(answer: ProtocolAnswer, check: Guard<T>): T {
  if (answer.status === 200) return expectBody(answer, check);
  throw unexpected(answer);
}
