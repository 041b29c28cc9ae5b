import { LockAdapterError } from './adapter';

/**
 * Why a lock call got no protocol answer, in the words a user needs:
 * - `offline`: no answer at all (offline, DNS, connection refused, CORS), or 408;
 * - `unauthorized`: 401, nobody is signed in (the server's `getUser` returned null);
 * - `forbidden`: 403, not allowed (`authorize`), or refused as cross-site;
 * - `not-found`: 404 or 405, no lock route at this URL (a wrong `baseUrl`, a missing route file);
 * - `server`: 5xx, the lock server failed (`store-error`) or stayed busy (503 `busy`);
 * - `unexpected`: an answer that is not the protocol (another version, a 400, a proxy's page).
 */
export type LockFailureKind =
  | 'offline'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'server'
  | 'unexpected';

/**
 * The failure kind of an error an adapter call rejected with ({@link LockAdapterError}), or
 * null for no error. Errors that are not adapter errors count as `offline` (a custom adapter
 * that threw: nothing was answered).
 *
 * @example
 * if (lockFailureOf(lock.error) === 'unauthorized') redirectToSignIn();
 */
export function lockFailureOf(error: unknown): LockFailureKind | null {
  if (error === null || error === undefined) return null;
  if (!(error instanceof LockAdapterError)) return 'offline';
  if (error.kind === 'network') return 'offline';
  if (error.kind === 'protocol') return 'unexpected';
  const status = error.status ?? 0;
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404 || status === 405) return 'not-found';
  if (status === 408) return 'offline';
  if (status >= 500) return 'server';
  return 'unexpected';
}

/** The likely fix for a failure, for developers (English, not for end users), or null. */
export function lockFailureHint(error: unknown): string | null {
  const kind = lockFailureOf(error);
  const code = error instanceof LockAdapterError ? error.code : undefined;
  switch (kind) {
    case null:
      return null;
    case 'offline':
      return "No answer from the lock server: is it running, is the adapter's baseUrl right, and (for another origin) does CORS allow the request?";
    case 'unauthorized':
      return "The server's getUser(request) returned null: the request carried no session it recognised. Check that the session cookie reaches the lock route (same origin, or credentials and the adapter's headers option).";
    case 'forbidden':
      return code === 'cross-site'
        ? "Refused as cross-site: the server compares the request's Origin with its Host header. Behind a proxy that sets X-Forwarded-Host/X-Forwarded-Proto, pass trustProxy: true; for another origin, list it in allowedOrigins."
        : "Refused by the server's authorize(user, resourceId, action): this user may not do that with this resource.";
    case 'not-found':
      return "No lock route at this URL: check the adapter's baseUrl, and that the route file is app/api/locks/[[...lock]]/route.ts (an optional catch-all) exporting every handler of createLockRouteHandlers().";
    case 'server':
      return code === 'busy'
        ? 'The lock store stayed busy (another process held its write lock) past the retry budget: see the server log.'
        : "The lock server failed: see the server's log (the handler's onError).";
    case 'unexpected':
      return 'The answer is not the page-lock protocol: are the client and the server the same version, and does nothing (a proxy, a login page) answer in their place?';
  }
}

const reported = new Set<string>();

/**
 * In development, logs one console line per distinct failure (kind, status, code) with its
 * likely fix; in production, nothing. The check is written out here, not behind a function, so
 * that bundlers replace `process.env.NODE_ENV` and drop the hints from production builds; where
 * there is no `process` and no bundler replaced it (a browser loading the ESM build as it is),
 * reading it throws and this is quiet too.
 */
export function reportLockFailure(error: unknown): void {
  try {
    if (process.env.NODE_ENV !== 'production') warnOnce(error);
  } catch {
    // No `process`: not a development build.
  }
}

function warnOnce(error: unknown): void {
  const hint = lockFailureHint(error);
  if (hint === null) return;
  const adapterError = error instanceof LockAdapterError ? error : null;
  const key = `${lockFailureOf(error)}:${adapterError?.status ?? ''}:${adapterError?.code ?? ''}`;
  if (reported.has(key)) return;
  reported.add(key);
  const what = error instanceof Error ? error.message : String(error);
  const line = what.startsWith('[page-lock]') ? what : `[page-lock] ${what}`;
  console.warn(`${line}. ${hint}`);
}

/** What was thrown, as an Error (a callback or adapter may throw anything). */
export const toError = (error: unknown): Error =>
  error instanceof Error ? error : new Error(String(error));
