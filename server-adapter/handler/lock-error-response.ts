import {
  LockBusyError,
  LockForbiddenError,
  LockInputError,
  LockNotHeldError,
  LockNotSupportedError,
  LockStoreError,
  PageLockError,
} from '../service/errors';
import { errorBody, INTERNAL_ERROR_MESSAGE, jsonResponse } from './responses';

/** How {@link lockErrorResponse} tells the time and reports what it hides. */
export interface LockErrorResponseOptions {
  /** The clock for `now` when the error does not carry one (default `Date.now`). */
  now?: () => number;
  /** Where a 500's real error goes, since the response hides it (default `console.error`). */
  onError?: (error: unknown) => void;
}

/**
 * Turns what `service.assertHeld` (or any service call) threw into the protocol's response, for
 * the application's own save routes:
 *
 * - {@link LockNotHeldError} → 423 `{ error: { code: 'lock-not-held', message }, reason, lock?, now }`
 * - {@link LockInputError} → 400 `{ error: { code: 'bad-request', message }, now }`
 * - {@link LockForbiddenError} (`authorize` said no) → 403 `{ error: { code: 'forbidden', message } }`
 * - {@link LockBusyError} (the store stayed busy) → 503 `busy` with `Retry-After: 1`
 * - {@link LockNotSupportedError} (asking to edit, on a store without a line) → 501 `not-supported`
 * - {@link LockStoreError} and anything else → 500 with a generic message: no driver text, no
 *   stack. The error itself goes to `onError`.
 *
 * Every response carries `Cache-Control: no-store` and `Page-Lock-Version`.
 *
 * @example
 * ```ts
 * export async function PUT(request: Request) {
 *   const user = await getSessionUser(request);
 *   const page = await request.json(); // the body first: a slow upload must not outlive the check
 *   try {
 *     const token = request.headers.get(LOCK_TOKEN_HEADER) ?? '';
 *     const lock = await locks.assertHeld(`page:${page.id}`, token, user);
 *     // UPDATE … WHERE id = $id AND version = $loaded AND fence <= $fence; 0 rows → 409 conflict
 *     const saved = savePage(page, lock.fence);
 *     if (!saved) return Response.json({ error: { code: 'conflict' } }, { status: 409 });
 *     return Response.json({ version: saved.version });
 *   } catch (error) {
 *     return lockErrorResponse(error);
 *   }
 * }
 * ```
 */
export function lockErrorResponse(
  error: unknown,
  options: LockErrorResponseOptions = {},
): Response {
  if (error instanceof LockNotHeldError) {
    return jsonResponse(
      423,
      errorBody('lock-not-held', error.message, error.now, {
        reason: error.reason,
        lock: error.lock,
      }),
    );
  }
  if (error instanceof LockInputError) {
    return jsonResponse(400, errorBody('bad-request', error.message, error.now));
  }
  if (error instanceof LockForbiddenError) {
    return jsonResponse(403, errorBody('forbidden', error.message, error.now));
  }
  if (error instanceof LockBusyError) {
    return jsonResponse(503, errorBody('busy', error.message, error.now), { 'Retry-After': '1' });
  }
  if (error instanceof LockNotSupportedError) {
    return jsonResponse(501, errorBody('not-supported', error.message, error.now));
  }
  report(error, options.onError);
  const now = error instanceof PageLockError ? error.now : (options.now ?? Date.now)();
  // One code for every 500: the client can do nothing different, and must learn nothing more.
  return jsonResponse(500, errorBody('store-error', INTERNAL_ERROR_MESSAGE, now));
}

function report(error: unknown, onError: ((error: unknown) => void) | undefined): void {
  try {
    // An async reporter fits the type too: its rejection, unhandled, would take Node down.
    const returned: unknown = onError ? onError(error) : console.error(describe(error), error);
    if (typeof (returned as PromiseLike<unknown> | null)?.then === 'function') {
      Promise.resolve(returned).catch(() => {});
    }
  } catch {
    // A failing logger must not turn a 500 into an unhandled rejection.
  }
}

function describe(error: unknown): string {
  return error instanceof LockStoreError
    ? '[page-lock] The lock store failed:'
    : '[page-lock] Unexpected error while answering a lock request:';
}
