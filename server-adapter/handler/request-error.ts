import type { ErrorCode, Lock } from '../../src/protocol/protocol';

/**
 * A request the handler refuses before it reaches the service (bad route, method, origin, body
 * or field). The handler turns it into the protocol's error response with `status`.
 */
export class LockRequestError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  /** Extra response headers, e.g. `Allow` on a 405. */
  readonly headers: Record<string, string>;
  /** The lock to show alongside the error, where the protocol says so. */
  readonly lock: Lock | undefined;

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    extra: { headers?: Record<string, string>; lock?: Lock } = {},
  ) {
    super(message);
    this.name = 'LockRequestError';
    this.status = status;
    this.code = code;
    this.headers = extra.headers ?? {};
    this.lock = extra.lock;
  }
}

/** A 400 that names the offending field, the way the service's `LockInputError` does. */
export function badField(field: string, problem: string): LockRequestError {
  return new LockRequestError(400, 'bad-request', `[page-lock] "${field}" ${problem}`);
}
