/**
 * A `LockAdapter` for a backend that is not page-lock's server: an app with its own lock API
 * (django-style-backend.ts shows the routes). Everything page-lock's React half needs goes
 * through these five methods; docs/custom-adapter.md walks through each.
 *
 *   const adapter = createDjangoStyleLockAdapter({
 *     apiUrl: '/api',
 *     headers: () => ({ 'X-CSRFToken': readCookie('csrftoken') }),
 *   });
 *   <PageLockProvider adapter={adapter}>…</PageLockProvider>
 */
// In an application: `from 'page-lock/core'`. The tests run this on the source.
import {
  type AcquireResponse,
  type BatchStatusEntry,
  type ErrorCode,
  type HeldResponse,
  type Lock,
  type LockAdapter,
  LockAdapterError,
  type LostReason,
  MAX_BATCH_IDS,
  type StatusResponse,
  type TakeOverResponse,
} from '../../src/core';

export interface DjangoStyleLockAdapterOptions {
  /** Where the API lives, e.g. `/api` or `https://cms.example.com/api`. */
  apiUrl: string;
  /** Headers for every call but the pagehide beacon (which can carry none): auth, CSRF. */
  headers?: () => Record<string, string>;
  /** Default: `globalThis.fetch`, looked up on every call. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

/** The backend's session JSON (a Django serializer's fields). */
interface SessionJson {
  page: string;
  holder: { username: string; display_name: string; avatar_url: string | null };
  started_at: string;
  granted_at: string;
  expires_at: string;
  fence: number;
}

/** An answer: its status and its JSON (undefined for a 204 or a body that is not JSON). */
interface Answer {
  status: number;
  body: Record<string, unknown> | undefined;
  what: string;
}

const PART = '[django-style-adapter]';

export function createDjangoStyleLockAdapter(options: DjangoStyleLockAdapterOptions): LockAdapter {
  const api = options.apiUrl.replace(/\/+$/, '');
  const doFetch = (input: string, init: RequestInit) =>
    (options.fetch ?? globalThis.fetch)(input, init);
  const path = (...segments: string[]) =>
    `${api}/${segments.map((segment) => encodeURIComponent(segment)).join('/')}/`;

  const call = async (
    method: string,
    url: string,
    body?: object,
    signal?: AbortSignal,
  ): Promise<Answer> => {
    signal?.throwIfAborted();
    const headers: Record<string, string> = { Accept: 'application/json', ...options.headers?.() };
    if (body) headers['Content-Type'] = 'application/json';
    const what = `${method} ${url}`;
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        headers,
        body: body ? JSON.stringify(body) : undefined,
        signal,
      });
    } catch (error) {
      // An abort is the caller's doing: it rejects with the signal's reason, not a network error.
      if (signal?.aborted) throw signal.reason;
      throw new LockAdapterError('network', `${PART} ${what}: no answer`, { cause: error });
    }
    const text = await response.text();
    let json: Record<string, unknown> | undefined;
    try {
      json = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      json = undefined; // a proxy's HTML page: the status says enough
    }
    return { status: response.status, body: json, what };
  };

  /** Any answer the protocol has no place for: an error the React half can explain. */
  const failure = (answer: Answer): LockAdapterError => {
    const detail = typeof answer.body?.detail === 'string' ? `: ${answer.body.detail}` : '';
    const code = ERROR_CODES[answer.status];
    return new LockAdapterError(
      'http',
      `${PART} ${answer.what} answered ${answer.status}${detail}`,
      code ? { status: answer.status, code } : { status: answer.status },
    );
  };
  /** An answer with the right status whose body is not what the API documents. */
  const malformed = (answer: Answer, cause?: unknown): LockAdapterError =>
    new LockAdapterError(
      'protocol',
      `${PART} ${answer.what} answered ${answer.status} with a body this adapter does not know`,
      { status: answer.status, cause },
    );
  /** Reads a body with the mappers below; a missing or mistyped field is a protocol error. */
  const parse = <T>(answer: Answer, map: (body: Record<string, unknown>) => T): T => {
    if (!answer.body) throw malformed(answer);
    try {
      return map(answer.body);
    } catch (cause) {
      throw malformed(answer, cause);
    }
  };

  return {
    async acquire(resourceId, { clientId, token }, callOptions) {
      const body = { page: resourceId, tab: clientId };
      const answer =
        token === undefined
          ? await call('POST', path('editing-sessions'), body, callOptions?.signal)
          : await call(
              'PUT',
              path('editing-sessions', token, 'heartbeat'),
              body,
              callOptions?.signal,
            );
      if (answer.status === 200 || answer.status === 201) return parse(answer, toHeld);
      if (answer.status === 409 && answer.body?.code === 'page_locked') {
        return parse(answer, toLocked);
      }
      if (answer.status === 410 && answer.body?.code === 'session_ended') {
        return parse(answer, toLost);
      }
      throw failure(answer);
    },

    async release(resourceId, token, releaseOptions) {
      const query = `?page=${encodeURIComponent(resourceId)}`;
      if (releaseOptions?.keepalive) {
        // The page is going away: a beacon (a plain POST, no custom headers) survives the unload;
        // nobody waits for its answer. Without sendBeacon, a keepalive fetch does the same.
        const url = path('editing-sessions', token, 'end') + query;
        const nav = globalThis.navigator as Navigator | undefined;
        if (!nav?.sendBeacon?.(url)) {
          doFetch(url, { method: 'POST', keepalive: true }).catch(() => {
            // Nobody is left to tell; the lease lapses by itself.
          });
        }
        return 'released';
      }
      const answer = await call('DELETE', path('editing-sessions', token) + query);
      if (answer.status === 204) return 'released';
      if (answer.status === 409 && answer.body?.code === 'not_holder') return 'not-holder';
      throw failure(answer);
    },

    async takeOver(resourceId, { clientId, expectedFence }, callOptions) {
      const body = { page: resourceId, tab: clientId, expected_fence: expectedFence };
      const url = path('editing-sessions', 'takeover');
      const answer = await call('POST', url, body, callOptions?.signal);
      if (answer.status === 201) return parse(answer, toHeld);
      const code = answer.body?.code;
      if (answer.status === 409 && code === 'fence_mismatch') {
        return parse(answer, (json) => toRefused(json, 'fence-mismatch'));
      }
      if (answer.status === 403 && code === 'permission_denied') {
        return parse(answer, (json) => toRefused(json, 'forbidden'));
      }
      throw failure(answer);
    },

    async status(resourceId, request, callOptions) {
      const tab = request?.clientId ? `?tab=${encodeURIComponent(request.clientId)}` : '';
      const url = path('pages', resourceId, 'editing-session') + tab;
      const answer = await call('GET', url, undefined, callOptions?.signal);
      if (answer.status !== 200) throw failure(answer);
      return parse(answer, toStatus);
    },

    async statusMany(resourceIds, request, callOptions) {
      if (resourceIds.length === 0 || resourceIds.length > MAX_BATCH_IDS) {
        throw new RangeError(
          `${PART} statusMany() takes 1 to ${MAX_BATCH_IDS} ids per call; got ${resourceIds.length}`,
        );
      }
      const query = new URLSearchParams(resourceIds.map((id) => ['page', id]));
      if (request?.clientId) query.set('tab', request.clientId);
      const url = `${path('editing-sessions')}?${query}`;
      const answer = await call('GET', url, undefined, callOptions?.signal);
      if (answer.status !== 200) throw failure(answer);
      return parse(answer, (json) => {
        const locks: Record<string, BatchStatusEntry> = Object.create(null);
        for (const entry of array(json.results)) locks[string(entry.page)] = toBatchEntry(entry);
        return { locks, ttlMs: leaseMs(json), now: time(json.server_time) };
      });
    },
  };
}

/** The protocol's error codes for the statuses the React half explains (lockFailureOf). */
const ERROR_CODES: Record<number, ErrorCode> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  413: 'payload-too-large',
  500: 'store-error',
};

// From the backend's JSON to the protocol's answers. Each reader throws on a field that is
// missing or of another type; `parse` turns that into a `protocol` error.

function toLock(json: unknown): Lock {
  const session = object(json) as unknown as SessionJson;
  const holder = object(session.holder);
  const avatarUrl = holder.avatar_url;
  return {
    resourceId: string(session.page),
    holder: {
      id: string(holder.username),
      name: string(holder.display_name),
      ...(typeof avatarUrl === 'string' ? { avatarUrl } : {}),
    },
    since: time(session.started_at),
    acquiredAt: time(session.granted_at),
    expiresAt: time(session.expires_at),
    fence: number(session.fence),
  };
}

function toHeld(json: Record<string, unknown>): HeldResponse {
  const held: HeldResponse = {
    status: 'held',
    lock: toLock(json),
    token: string(json.session_token),
    ttlMs: leaseMs(json),
    now: time(json.server_time),
  };
  return json.resumed === true ? { ...held, resumed: true } : held;
}

function toLocked(json: Record<string, unknown>): AcquireResponse {
  return {
    status: 'locked',
    lock: toLock(json.current_session),
    isSelf: json.is_you === true,
    canTakeOver: json.may_take_over === true,
    ttlMs: leaseMs(json),
    now: time(json.server_time),
  };
}

const LOST_REASONS: Record<string, LostReason> = {
  released: 'released',
  taken_over: 'taken-over',
  expired: 'expired',
  edited_meanwhile: 'edited-meanwhile',
};

function toLost(json: Record<string, unknown>): AcquireResponse {
  const reason = LOST_REASONS[string(json.reason)];
  if (!reason) throw new TypeError(`unknown reason ${String(json.reason)}`);
  const now = time(json.server_time);
  if (json.current_session === null || json.current_session === undefined) {
    return { status: 'lost', reason, now };
  }
  const lock = toLock(json.current_session);
  return { status: 'lost', reason, lock, isSelf: json.is_you === true, now };
}

function toRefused(
  json: Record<string, unknown>,
  reason: 'fence-mismatch' | 'forbidden',
): TakeOverResponse {
  const now = time(json.server_time);
  if (json.current_session === null || json.current_session === undefined) {
    return { status: 'refused', reason, now };
  }
  return { status: 'refused', reason, lock: toLock(json.current_session), now };
}

function toStatus(json: Record<string, unknown>): StatusResponse {
  const ttlMs = leaseMs(json);
  const now = time(json.server_time);
  if (json.editing_session === null) return { status: 'free', ttlMs, now };
  const lock = toLock(json.editing_session);
  if (json.is_this_tab === true) {
    return { status: 'held', lock, isSelf: true, canTakeOver: true, ttlMs, now };
  }
  const isSelf = json.is_you === true;
  return { status: 'locked', lock, isSelf, canTakeOver: json.may_take_over === true, ttlMs, now };
}

function toBatchEntry(json: Record<string, unknown>): BatchStatusEntry {
  if (json.forbidden === true) return { status: 'forbidden' };
  if (json.editing_session === null) return { status: 'free' };
  const lock = toLock(json.editing_session);
  return json.is_this_tab === true
    ? { status: 'held', lock, isSelf: true }
    : { status: 'locked', lock, isSelf: json.is_you === true };
}

function object(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) throw new TypeError('expected an object');
  return value as Record<string, unknown>;
}

function array(value: unknown): Record<string, unknown>[] {
  if (!Array.isArray(value)) throw new TypeError('expected an array');
  return value.map(object);
}

function string(value: unknown): string {
  if (typeof value !== 'string') throw new TypeError('expected a string');
  return value;
}

function number(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new TypeError('expected a number');
  return value;
}

/** An ISO 8601 time to epoch ms, as the protocol counts time. */
function time(value: unknown): number {
  const ms = Date.parse(string(value));
  if (Number.isNaN(ms)) throw new TypeError('expected an ISO 8601 time');
  return ms;
}

function leaseMs(json: Record<string, unknown>): number {
  return number(json.lease_seconds) * 1000;
}
