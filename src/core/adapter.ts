import type {
  AcquireResponse,
  AnswerResponse,
  AskResponse,
  BatchStatusResponse,
  ErrorCode,
  HeldResponse,
  Lock,
  StatusResponse,
} from '../protocol/protocol';
import type { LockStreamListener } from './lock-stream';

/** Options every adapter call accepts. */
export interface AdapterCallOptions {
  /** Aborts the request; the adapter then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface AcquireRequest {
  clientId: string;
  /** The live token, to refresh or resume; absent on a first acquire (or a reclaim after reload). */
  token?: string;
}

export interface TakeOverRequest {
  clientId: string;
  /** The fence of the lock the user saw. */
  expectedFence: number;
}

/** A takeover that granted nothing: the fence moved on (409) or it is not allowed (403). */
export interface TakeOverRefused {
  status: 'refused';
  reason: 'fence-mismatch' | 'forbidden';
  /** The current lock, when there is one. */
  lock?: Lock;
  now: number;
}

export type TakeOverResponse = HeldResponse | TakeOverRefused;

export interface AskRequest {
  clientId: string;
  /** A short note to the holder (at most 200 characters). */
  message?: string;
  /** `true`: the waiter's poll, keeping its place; absent or false: ask (again). */
  renew?: boolean;
}

export interface AnswerRequest {
  /** The holder's live token. */
  token: string;
  /** The waiter (`Waiter.id`) answered. */
  waiterId: string;
  answer: 'hand-over' | 'decline';
}

/** What a release came to: 204 (released, or already free) or 409 (someone else holds it). */
export type ReleaseOutcome = 'released' | 'not-holder';

export interface ReleaseOptions {
  /** Why the holder gives it back: `idle` after `idleTimeout` (the server says `idle-released`). */
  reason?: 'idle';
  /**
   * The page is going away (`pagehide`): send it so it survives the unload (the HTTP adapter
   * uses `navigator.sendBeacon`, else `fetch` with `keepalive`) and do not wait for an answer.
   */
  keepalive?: boolean;
}

/**
 * How the browser half talks to a lock server. The HTTP adapter speaks DESIGN.md's wire
 * protocol; the memory adapter runs the same service in the page. Every method resolves with
 * the protocol's answer (a 423 or 409 is an answer, not an error) and rejects with a
 * {@link LockAdapterError} when there is no answer to give (network, 5xx, 401, version mismatch).
 */
export interface LockAdapter {
  /** Acquire, reclaim, refresh or resume (`POST {base}/{id}`). */
  acquire(
    resourceId: string,
    request: AcquireRequest,
    options?: AdapterCallOptions,
  ): Promise<AcquireResponse>;
  /** Give the lock back (`POST {base}/{id}/release`, a beacon when `keepalive`). */
  release(resourceId: string, token: string, options?: ReleaseOptions): Promise<ReleaseOutcome>;
  /**
   * Ask to edit, or keep a place in line (`POST {base}/{id}/ask`). A 409 `not-locked` (nobody
   * holds it: acquire), `queue-full` or `not-supported` rejects with a {@link LockAdapterError}.
   * Optional: an adapter without it offers no "Ask to edit".
   */
  ask?(resourceId: string, request: AskRequest, options?: AdapterCallOptions): Promise<AskResponse>;
  /** The holder hands the page to a waiter or declines (`POST {base}/{id}/answer`). */
  answer?(
    resourceId: string,
    request: AnswerRequest,
    options?: AdapterCallOptions,
  ): Promise<AnswerResponse>;
  /** Leave the line (`POST {base}/{id}/leave`, a beacon when `keepalive`). */
  leave?(resourceId: string, clientId: string, options?: ReleaseOptions): Promise<void>;
  /** Take the lock from its holder (`POST {base}/{id}/takeover`). */
  takeOver(
    resourceId: string,
    request: TakeOverRequest,
    options?: AdapterCallOptions,
  ): Promise<TakeOverResponse>;
  /** Observe one resource without acquiring (`GET {base}/{id}?clientId=`). */
  status(
    resourceId: string,
    request?: { clientId?: string },
    options?: AdapterCallOptions,
  ): Promise<StatusResponse>;
  /** Observe many resources in one request (`GET {base}?ids=…`, at most 100). */
  statusMany(
    resourceIds: readonly string[],
    request?: { clientId?: string },
    options?: AdapterCallOptions,
  ): Promise<BatchStatusResponse>;
  /**
   * Live news of one resource (`GET {base}/events`, server-sent events): its changes as they
   * happen, and `up` / `down` as the stream comes and goes. Optional: an adapter without it
   * works by polling alone, as does every watcher while the stream is down. Returns the unwatch.
   */
  watch?(resourceId: string, listener: LockStreamListener): () => void;
}

export type LockAdapterErrorKind =
  /** No answer: offline, DNS, connection reset, CORS. */
  | 'network'
  /** The server answered with an error (`status` and `code` say which). */
  | 'http'
  /** The server speaks another protocol version, or answered something that is not the protocol. */
  | 'protocol';

/** Why an adapter call has no protocol answer to give. */
export class LockAdapterError extends Error {
  readonly kind: LockAdapterErrorKind;
  /** The HTTP status, for `http` errors. */
  readonly status: number | undefined;
  /** The protocol's error code, when the server sent one. */
  readonly code: ErrorCode | undefined;

  constructor(
    kind: LockAdapterErrorKind,
    message: string,
    details: { status?: number; code?: ErrorCode; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'LockAdapterError';
    this.kind = kind;
    this.status = details.status;
    this.code = details.code;
  }
}
