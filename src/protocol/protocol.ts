/**
 * The wire protocol shared by the browser half and the server half (see DESIGN.md, "Wire
 * protocol"). Plain types and constants only: importable from any runtime.
 */

/** Sent as the `Page-Lock-Version` response header; adapters refuse a server that differs. */
export const PROTOCOL_VERSION = '1';
export const PROTOCOL_VERSION_HEADER = 'Page-Lock-Version';
/** By convention, saves carry the lock token in this header. */
export const LOCK_TOKEN_HEADER = 'Page-Lock-Token';

/** Resource ids are 1–256 characters. */
export const MAX_RESOURCE_ID_LENGTH = 256;
/** A batch status request names at most this many ids. */
export const MAX_BATCH_IDS = 100;

/** Who edits. On the server it always comes from the application's own session. */
export interface LockUser {
  id: string;
  name: string;
  avatarUrl?: string;
}

/** A lock as anyone may see it: the holder's `clientId` and token are never part of it. */
export interface Lock {
  resourceId: string;
  holder: LockUser;
  /** When this user began holding it without interruption (epoch ms). */
  since: number;
  /** When the current fence was granted (epoch ms). */
  acquiredAt: number;
  /** When the lease lapses unless refreshed (epoch ms). */
  expiresAt: number;
  /** Grows with every new grant of the resource; never reused. */
  fence: number;
}

/** Why a token that was presented is no longer live. */
export type LostReason =
  /** It was released (by its tab, or by an admin). */
  | 'released'
  /** Someone took the lock over. */
  | 'taken-over'
  /** Our lease lapsed and someone else holds the resource now. */
  | 'expired'
  /** Our lease lapsed and someone else held the resource since: our copy is stale. */
  | 'edited-meanwhile'
  /** We handed the page to a waiter ("Hand over"). */
  | 'handed-over'
  /** We were released after idling (`idleTimeout`). */
  | 'idle';

/** An ask-to-edit note is at most this many characters. */
export const MAX_ASK_MESSAGE_LENGTH = 200;
/** At most this many tabs wait in line for one resource; one more is a 409 `queue-full`. */
export const MAX_QUEUE_LENGTH = 50;

/**
 * What became of a waiter's request to the holder: `pending` until the holder answers,
 * `declined` after "Keep editing", `lapsed` when nobody answered within the server's `askTimeout`.
 * A declined or lapsed request keeps its place in line.
 */
export type AskState = 'pending' | 'declined' | 'lapsed';

/** One tab waiting in line for a resource, as the holder (and the waiter itself) sees it. */
export interface Waiter {
  /** Names this place in line in a hand-over or a decline; random, not the waiter's client id. */
  id: string;
  user: LockUser;
  /** When it asked (epoch ms): the line is in this order. */
  askedAt: number;
  /** The asker's note to the holder, if any (at most {@link MAX_ASK_MESSAGE_LENGTH}). */
  message?: string;
  request: AskState;
  /** When a pending request lapses unanswered (epoch ms). */
  requestExpiresAt: number;
}

/** 200 to an acquire, refresh, reclaim, resume or takeover. */
export interface HeldResponse {
  status: 'held';
  lock: Lock;
  token: string;
  ttlMs: number;
  /** True when a lapsed lease came back because nobody held the resource since. */
  resumed?: boolean;
  /** Who waits in line for this page, first first; absent when nobody does. Only the holder sees it. */
  waiters?: Waiter[];
  now: number;
}

/**
 * 200 to `POST {base}/{id}/ask`: this tab is in line. Its poll (the same request with `renew`)
 * keeps the place alive; a tab that stops asking drops out after the TTL.
 */
export interface QueuedResponse {
  status: 'queued';
  /** The lock it waits for (a tab the page was handed to, for a grace, holds it too). */
  lock: Lock;
  /** 1: next in line. */
  place: number;
  /** This tab's own entry. */
  waiter: Waiter;
  ttlMs: number;
  now: number;
}

/** 200 to an ask: in line, or (the page was handed or passed to this tab) held. */
export type AskResponse = QueuedResponse | HeldResponse;

/** 200 to `POST {base}/{id}/answer`. */
export type AnswerResponse =
  /** The page is the waiter's now: this tab's token is dead (ended as `handed-over`). */
  | { status: 'handed-over'; lock: Lock; now: number }
  /** The waiter is told "still editing"; it keeps its place. */
  | { status: 'declined'; waiters: Waiter[]; now: number };

/** 423 to an acquire: someone else (or this user in another tab) holds it. */
export interface LockedResponse {
  status: 'locked';
  lock: Lock;
  /** The holder is the same user (another tab or device). */
  isSelf: boolean;
  /** Whether this user may take the lock over. */
  canTakeOver: boolean;
  /** How many tabs wait in line (absent: none). */
  waiting?: number;
  ttlMs: number;
  now: number;
}

/** 409 to a refresh: the token presented is not live, nothing was granted. */
export interface LostResponse {
  status: 'lost';
  reason: LostReason;
  /** The current lock, when someone holds the resource. */
  lock?: Lock;
  /**
   * With `lock`: its holder is this same user, in another tab or browser ("edit here instead"
   * there), so the tab can say "You opened this page in another tab" rather than name a rival.
   */
  isSelf?: boolean;
  now: number;
}

export type AcquireResponse = HeldResponse | LockedResponse | LostResponse;

/** 200 to `GET {base}/{id}`: observe without acquiring. */
export type StatusResponse =
  | { status: 'free'; ttlMs: number; now: number }
  | {
      status: 'locked';
      lock: Lock;
      isSelf: boolean;
      canTakeOver: boolean;
      /** How many tabs wait in line (absent: none). */
      waiting?: number;
      ttlMs: number;
      now: number;
    }
  | { status: 'held'; lock: Lock; isSelf: true; canTakeOver: true; ttlMs: number; now: number };

/** One entry of a batch status answer. */
export type BatchStatusEntry =
  | { status: 'free' }
  /** `authorize(user, id, 'observe')` refused this id; the rest of the batch is answered. */
  | { status: 'forbidden' }
  /** `waiting`: how many tabs wait in line (absent: none). */
  | { status: 'locked'; lock: Lock; isSelf: boolean; waiting?: number }
  | { status: 'held'; lock: Lock; isSelf: true; waiting?: number };

/** 200 to `GET {base}?ids=a&ids=b`. */
export interface BatchStatusResponse {
  locks: Record<string, BatchStatusEntry>;
  ttlMs: number;
  now: number;
}

export type ErrorCode =
  | 'bad-request'
  | 'unauthorized'
  | 'forbidden'
  | 'cross-site'
  | 'not-found'
  | 'method-not-allowed'
  | 'payload-too-large'
  | 'not-holder'
  | 'fence-mismatch'
  | 'lock-not-held'
  /** 409 to an ask: nobody holds the page, so acquire it instead. */
  | 'not-locked'
  /** 409 to an ask: {@link MAX_QUEUE_LENGTH} tabs already wait. */
  | 'queue-full'
  /** 409 to an answer: no such waiter is in line (it left, or lapsed). */
  | 'not-queued'
  /** 501: the store has no queue (a custom store without `ask`, `answer` and `leave`). */
  | 'not-supported'
  /** 408: the request body did not arrive within `bodyTimeoutMs`. */
  | 'request-timeout'
  /** 409 from an application's save route: the content changed since the editor loaded it. */
  | 'conflict'
  /** 503: the store stayed busy (another process held its write lock) past the retry budget. */
  | 'busy'
  | 'store-error';

/** Every error body: `{ error: { code, message }, now }`, plus `lock` where the protocol says. */
export interface ErrorResponse {
  error: { code: ErrorCode; message: string };
  lock?: Lock;
  reason?: LostReason;
  now: number;
}

/** What `authorize(user, resourceId, action)` is asked about (DESIGN.md, "Authorization"). */
export type LockAction = 'observe' | 'acquire' | 'takeOver' | 'ask';

/** Why a resource id is refused, or null when it is fine. */
export function resourceIdProblem(value: unknown): string | null {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  // URL parsers drop `.` and `..` path segments (even encoded), so they could never be reached.
  if (value === '.' || value === '..') return 'must not be "." or ".."';
  if (value.length > MAX_RESOURCE_ID_LENGTH) {
    return `must be at most ${MAX_RESOURCE_ID_LENGTH} characters`;
  }
  if (hasUnstorableText(value)) return 'must not hold a NUL or a lone UTF-16 surrogate';
  return null;
}

/** Client ids and tokens are random strings; anything longer than this is not one. */
export const MAX_RANDOM_ID_LENGTH = 200;

/** Why a `clientId` or token is refused, or null when it is fine. */
export function randomIdProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'must be a non-empty string';
  if (value.length > MAX_RANDOM_ID_LENGTH) {
    return `must be at most ${MAX_RANDOM_ID_LENGTH} characters`;
  }
  if (hasUnstorableText(value)) return 'must not hold a NUL or a lone UTF-16 surrogate';
  return null;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Whether a string holds what a store cannot keep as it is: a NUL (Postgres `text` and `jsonb`
 * refuse it) or a lone UTF-16 surrogate (not valid Unicode: `jsonb` refuses it, UTF-8 clients
 * such as Redis's turn it into U+FFFD). Ids and client ids holding one are bad input, not a store failure.
 */
export function hasUnstorableText(value: string): boolean {
  return value.includes('\u0000') || LONE_SURROGATE.test(value);
}

const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/** The same text with NULs dropped and lone surrogates made U+FFFD: what every store can keep. */
export function storableText(value: string): string {
  return value.replaceAll('\u0000', '').replace(LONE_SURROGATES, '\ufffd');
}
