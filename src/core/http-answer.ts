import {
  type AnswerResponse,
  type AskResponse,
  type BatchStatusResponse,
  type ErrorCode,
  type HeldResponse,
  type Lock,
  type LockedResponse,
  type LostResponse,
  PROTOCOL_VERSION,
  PROTOCOL_VERSION_HEADER,
  type StatusResponse,
} from '../protocol/protocol';
import { LockAdapterError, type TakeOverRefused } from './adapter';

export const PART = '[page-lock] [http-adapter]';

/** A response that passed the version check, with its JSON body (undefined for a 204). */
export interface ProtocolAnswer {
  status: number;
  body: unknown;
  what: string;
}

/** Reads a response's JSON body, after the version check. */
export async function readAnswer(response: Response, what: string): Promise<ProtocolAnswer> {
  const { status } = response;
  // An absent header is tolerated: cross-origin servers expose it only when they list it in
  // Access-Control-Expose-Headers. A body that is not the protocol is caught below anyway.
  const version = response.headers.get(PROTOCOL_VERSION_HEADER);
  if (version !== null && version !== PROTOCOL_VERSION) {
    throw protocolError(
      { status, what, body: 0 },
      `: the server speaks page-lock protocol ${version}, this client speaks ${PROTOCOL_VERSION}; update the client and the server together`,
    );
  }
  const text = await response.text();
  const answer: ProtocolAnswer = { status, body: undefined, what };
  if (text !== '') {
    try {
      answer.body = JSON.parse(text);
    } catch (cause) {
      // A proxy's HTML error page: the status is what matters, unless it claims to answer.
      if (response.ok || status === 409 || status === 423) {
        throw protocolError(answer, ` answered ${status} with a body that is not JSON`, cause);
      }
    }
  }
  return answer;
}

/** `says` goes right after the request, e.g. `: the server speaks…` or ` answered 200 with…`. */
function protocolError(answer: ProtocolAnswer, says: string, cause?: unknown): LockAdapterError {
  return new LockAdapterError('protocol', `${PART} ${answer.what}${says}`, {
    status: answer.status,
    cause,
  });
}

/** The body when it has the shape `check` wants; else a `protocol` error. */
export function expectBody<T>(answer: ProtocolAnswer, check: Guard<T>): T {
  if (check(answer.body)) return answer.body;
  throw protocolError(
    answer,
    ` answered ${answer.status} with a body that is not the page-lock protocol`,
  );
}

/** The error for any status the protocol does not give the call as an answer. */
export function unexpected({ status, body, what }: ProtocolAnswer): LockAdapterError {
  const code = errorCodeOf(body);
  const message = (body as { error?: { message?: unknown } } | undefined)?.error?.message;
  const detail = code
    ? ` ${code}${typeof message === 'string' && message ? `: ${message}` : ''}`
    : '';
  return new LockAdapterError('http', `${PART} ${what} answered ${status}${detail}`, {
    status,
    code,
  });
}

/** The protocol's error code of a body, when it has one. */
export function errorCodeOf(body: unknown): ErrorCode | undefined {
  const code = isObject(body) && isObject(body.error) ? body.error.code : undefined;
  return typeof code === 'string' ? (code as ErrorCode) : undefined;
}

/** A takeover's 409 `fence-mismatch` or 403 `forbidden`, with the current lock when there is one. */
export function refusal(
  answer: ProtocolAnswer,
  reason: TakeOverRefused['reason'],
): TakeOverRefused {
  const { lock, now } = expectBody(answer, refusalShape);
  return lock ? { status: 'refused', reason, lock, now } : { status: 'refused', reason, now };
}

/**
 * `lock: null` (nobody holds it) is told as no `lock` at all, as the protocol's type says, and
 * `isSelf` only comes with a lock.
 */
export function withoutNullLock(response: LostResponse): LostResponse {
  if (response.lock) return response;
  const { lock: _none, isSelf: _alone, ...rest } = response;
  return rest;
}

// Shape checks: enough to tell a protocol answer from anything else that answered on that URL.

type Check = (value: unknown) => boolean;
/** A check that tells TypeScript what the value is once it passed. */
export type Guard<T> = (value: unknown) => value is T;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

const typeIs =
  (type: string): Check =>
  (value) =>
    typeof value === type;
const string = typeIs('string');
const number = typeIs('number');
const boolean = typeIs('boolean');
const oneOf =
  (...values: unknown[]): Check =>
  (value) =>
    values.includes(value);
const optional =
  (check: Check, ...absent: unknown[]): Check =>
  (value) =>
    value === undefined || absent.includes(value) || check(value);
const shape =
  (checks: Record<string, Check>): Check =>
  (value) =>
    isObject(value) && Object.keys(checks).every((key) => checks[key]?.(value[key]));
const either =
  (...checks: Check[]): Check =>
  (value) =>
    checks.some((check) => check(value));
const listOf =
  (check: Check): Check =>
  (value) =>
    Array.isArray(value) && value.every(check);

const lock = shape({
  resourceId: string,
  holder: shape({ id: string, name: string }),
  since: number,
  acquiredAt: number,
  expiresAt: number,
  fence: number,
});
const lease = { ttlMs: number, now: number };
const waiter = shape({
  id: string,
  user: shape({ id: string, name: string }),
  askedAt: number,
  message: optional(string),
  request: oneOf('pending', 'declined', 'lapsed'),
  requestExpiresAt: number,
});
const waiters = listOf(waiter);
const shown = { lock, isSelf: boolean };
const observed = { status: oneOf('locked', 'held'), ...shown };
// `forbidden`: the server's `authorize` refused this id; the rest of the batch is answered.
const batchEntry = either(shape({ status: oneOf('free', 'forbidden') }), shape(observed));

export const isHeldResponse = shape({
  status: oneOf('held'),
  lock,
  token: string,
  waiters: optional(waiters),
  ...lease,
}) as Guard<HeldResponse>;
export const isLockedResponse = shape({
  status: oneOf('locked'),
  ...shown,
  canTakeOver: boolean,
  waiting: optional(number),
  ...lease,
}) as Guard<LockedResponse>;
export const isLostResponse = shape({
  status: oneOf('lost'),
  reason: oneOf('released', 'taken-over', 'expired', 'edited-meanwhile', 'handed-over', 'idle'),
  lock: optional(lock, null),
  isSelf: optional(boolean),
  now: number,
}) as Guard<LostResponse>;
export const isStatusResponse = either(
  shape({ status: oneOf('free'), ...lease }),
  shape({ ...observed, canTakeOver: boolean, waiting: optional(number), ...lease }),
) as Guard<StatusResponse>;
const isQueuedResponse = shape({
  status: oneOf('queued'),
  lock,
  place: number,
  waiter,
  ...lease,
});
export const isAskResponse = either(isQueuedResponse, isHeldResponse) as Guard<AskResponse>;
export const isAnswerResponse = either(
  shape({ status: oneOf('handed-over'), lock, now: number }),
  shape({ status: oneOf('declined'), waiters, now: number }),
) as Guard<AnswerResponse>;
export const isBatchStatusResponse = shape({
  locks: (value) => isObject(value) && Object.values(value).every(batchEntry),
  ...lease,
}) as Guard<BatchStatusResponse>;
const refusalShape = shape({ lock: optional(lock, null), now: number }) as Guard<{
  lock?: Lock | null;
  now: number;
}>;
