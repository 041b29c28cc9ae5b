import type { ErrorCode, Lock, LockAction, LostReason } from '../../src/protocol/protocol';

/** The base of every error page-lock throws on purpose; `code` is the wire protocol's. */
export class PageLockError extends Error {
  readonly code: ErrorCode;
  /** The service's clock when the error arose (epoch ms), for the response's `now`. */
  readonly now: number;

  constructor(code: ErrorCode, message: string, options: { now?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PageLockError';
    this.code = code;
    this.now = options.now ?? Date.now();
  }
}

/** Bad input to the service: a resource id, client id or token that is not what it must be. */
export class LockInputError extends PageLockError {
  /** The offending field, as named on the wire. */
  readonly field: string;

  constructor(field: string, problem: string, now?: number) {
    super('bad-request', `[page-lock] "${field}" ${problem}`, { now });
    this.name = 'LockInputError';
    this.field = field;
  }
}

/** The backing store failed. Nothing was granted (invariant 7). */
export class LockStoreError extends PageLockError {
  constructor(operation: string, cause: unknown, now?: number) {
    super('store-error', `[page-lock] The lock store failed during ${operation}`, { now, cause });
    this.name = 'LockStoreError';
  }
}

/**
 * The store stayed busy past its retry budget (an SQLite file whose write lock another process
 * held). Nothing was granted; the client may simply try again (503 with `Retry-After`).
 */
export class LockBusyError extends PageLockError {
  constructor(message: string, now?: number) {
    super('busy', message, { now });
    this.name = 'LockBusyError';
  }
}

/** `authorize(user, resourceId, action)` refused: the store was not touched (403). */
export class LockForbiddenError extends PageLockError {
  readonly resourceId: string;
  readonly action: LockAction;

  constructor(resourceId: string, action: LockAction, now?: number) {
    super('forbidden', `[page-lock] You may not ${ACTION_WORDS[action]} "${resourceId}"`, { now });
    this.name = 'LockForbiddenError';
    this.resourceId = resourceId;
    this.action = action;
  }
}

const ACTION_WORDS: Record<LockAction, string> = {
  observe: 'observe the lock of',
  acquire: 'acquire the lock of',
  takeOver: 'take over the lock of',
  ask: 'ask to edit',
};

/** A line operation the store cannot do. */
export type QueueOperation = 'ask' | 'answer' | 'leave';

/**
 * The store has no line: a custom store without `ask`, `answer` and `leave` (501). Nothing was
 * changed; the rest of the protocol works as before.
 */
export class LockNotSupportedError extends PageLockError {
  readonly operation: QueueOperation;

  constructor(operation: QueueOperation, now?: number) {
    super(
      'not-supported',
      `[page-lock] This lock store cannot ${operation}: asking to edit needs a store with ask, answer and leave`,
      { now },
    );
    this.name = 'LockNotSupportedError';
    this.operation = operation;
  }
}

/** Thrown by `assertHeld` when the token presented with a save does not hold the lock. */
export class LockNotHeldError extends PageLockError {
  readonly resourceId: string;
  readonly reason: LostReason;
  /** The live lock of the resource, when someone holds it. */
  readonly lock: Lock | null;

  constructor(resourceId: string, reason: LostReason, lock: Lock | null, now?: number) {
    super('lock-not-held', lockNotHeldMessage(resourceId, reason, lock), { now });
    this.name = 'LockNotHeldError';
    this.resourceId = resourceId;
    this.reason = reason;
    this.lock = lock;
  }
}

function lockNotHeldMessage(resourceId: string, reason: LostReason, lock: Lock | null): string {
  const holder = lock ? `; ${lock.holder.name} holds it now` : '';
  return `[page-lock] The lock on "${resourceId}" is not held by this token (${reason})${holder}`;
}
