import { resourceIdProblem } from '../../src/core/protocol';
import { badField, LockRequestError } from './request-error';

/** The protocol's routes under the base path (DESIGN.md, "Wire protocol"). */
export type LockRoute =
  /** `{base}`: the batch status GET. */
  | { kind: 'batch' }
  /** `{base}/{id}`: status GET, acquire POST, release DELETE. */
  | { kind: 'lock'; encodedId: string }
  /** `{base}/{id}/release`: the sendBeacon release. */
  | { kind: 'release'; encodedId: string }
  /** `{base}/{id}/takeover`. */
  | { kind: 'takeover'; encodedId: string };

/** The methods each route answers, for the 405's `Allow` header. */
export const ALLOWED_METHODS: Record<LockRoute['kind'], readonly string[]> = {
  batch: ['GET'],
  lock: ['GET', 'POST', 'DELETE'],
  release: ['POST'],
  takeover: ['POST'],
};

/** `"/api/locks/"` → `"/api/locks"`; `""` and `"/"` → `""` (the handler owns the whole site). */
export function normalizeBasePath(basePath: string): string {
  if (typeof basePath !== 'string') {
    throw new Error('[page-lock] [handler] Missing option "basePath", e.g. "/api/locks"');
  }
  const trimmed = basePath.replace(/\/+$/, '');
  if (trimmed !== '' && !trimmed.startsWith('/')) {
    throw new Error(`[page-lock] [handler] Option "basePath" must start with "/": "${basePath}"`);
  }
  return trimmed;
}

/**
 * Finds the route of a URL path (as `new URL(request.url).pathname` gives it: still
 * percent-encoded, so an id holding `/` arrives as one `%2F` segment). Ids are left encoded
 * here; {@link decodeResourceId} decodes them once the request is known to be allowed.
 */
export function matchRoute(pathname: string, basePath: string): LockRoute | null {
  if (!pathname.startsWith(basePath)) return null;
  const rest = pathname.slice(basePath.length);
  if (rest === '' || rest === '/') return { kind: 'batch' };
  if (!rest.startsWith('/')) return null;
  const segments = rest.slice(1).split('/');
  const [encodedId, action, ...extra] = segments;
  if (encodedId === undefined || extra.length > 0) return null;
  if (action === undefined) return { kind: 'lock', encodedId };
  if (action === 'release' || action === 'takeover') return { kind: action, encodedId };
  return null;
}

/** Decodes one path segment into a resource id: a malformed `%` escape or a bad id is a 400. */
export function decodeResourceId(encodedId: string): string {
  let id: string;
  try {
    id = decodeURIComponent(encodedId);
  } catch {
    throw badField('resourceId', 'is not a valid percent-encoded path segment');
  }
  const problem = resourceIdProblem(id);
  if (problem) throw badField('resourceId', problem);
  return id;
}

/** The 405 for a method a route does not answer, with its `Allow` header. */
export function methodNotAllowed(method: string, route: LockRoute): LockRequestError {
  const allowed = ALLOWED_METHODS[route.kind];
  return new LockRequestError(
    405,
    'method-not-allowed',
    `[page-lock] ${method} is not allowed here; use ${allowed.join(' or ')}`,
    { headers: { Allow: allowed.join(', ') } },
  );
}
