import { EVENT_STREAM_MEDIA_TYPE, EVENTS_PATH } from '../../src/protocol/live';
import { resourceIdProblem } from '../../src/protocol/protocol';
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
  | { kind: 'takeover'; encodedId: string }
  /** `{base}/{id}/ask`: ask to edit, or keep a place in line. */
  | { kind: 'ask'; encodedId: string }
  /** `{base}/{id}/answer`: the holder hands over or declines. */
  | { kind: 'answer'; encodedId: string }
  /** `{base}/{id}/leave`: leave the line (also the `pagehide` beacon). */
  | { kind: 'leave'; encodedId: string };

/** The routes named by the segment after the id. */
const ACTIONS: ReadonlySet<string> = new Set(['release', 'takeover', 'ask', 'answer', 'leave']);
type ActionRoute = Exclude<LockRoute, { kind: 'batch' | 'lock' }>;

/** The methods each route answers, for the 405's `Allow` header. */
export const ALLOWED_METHODS: Record<LockRoute['kind'], readonly string[]> = {
  batch: ['GET'],
  lock: ['GET', 'POST', 'DELETE'],
  release: ['POST'],
  takeover: ['POST'],
  ask: ['POST'],
  answer: ['POST'],
  leave: ['POST'],
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
 * The path and query of a request's URL, as `new URL(request.url)` gives them (`pathname` still
 * percent-encoded, `search` with its `?` or empty), without building a URL: a Request's `url` is
 * already parsed and serialized, so for http(s) the path is what runs from the first `/` after
 * the host to the first `?` or `#`. Anything else goes through the URL parser.
 */
export function splitRequestUrl(url: string): { pathname: string; search: string } {
  const afterScheme = url.startsWith('https://') ? 8 : url.startsWith('http://') ? 7 : -1;
  if (afterScheme > 0) {
    const pathStart = url.indexOf('/', afterScheme);
    const hash = url.indexOf('#', afterScheme);
    const end = hash < 0 ? url.length : hash;
    if (pathStart >= 0 && pathStart < end && !url.slice(afterScheme, pathStart).includes('?')) {
      const query = url.indexOf('?', pathStart);
      const pathEnd = query < 0 || query > end ? end : query;
      const search = pathEnd < end ? url.slice(pathEnd, end) : '';
      return { pathname: url.slice(pathStart, pathEnd), search: search === '?' ? '' : search };
    }
  }
  const parsed = new URL(url);
  return { pathname: parsed.pathname, search: parsed.search };
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
  if (ACTIONS.has(action)) return { kind: action as ActionRoute['kind'], encodedId };
  return null;
}

/**
 * `GET {base}/events` asking for `text/event-stream` is the live channel. Without that `Accept`
 * (or with `{base}/events` taken as an id by POST, DELETE, …) it stays the resource "events".
 */
export function isEventStreamRequest(request: Request, route: LockRoute): boolean {
  if (route.kind !== 'lock' || route.encodedId !== EVENTS_PATH) return false;
  if (request.method.toUpperCase() !== 'GET') return false;
  return acceptsEventStream(request.headers.get('Accept'));
}

/** Whether an `Accept` header names `text/event-stream` (any case, any parameters, not `q=0`). */
export function acceptsEventStream(accept: string | null): boolean {
  if (accept === null) return false;
  return accept.split(',').some((range) => {
    const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    if (type !== EVENT_STREAM_MEDIA_TYPE) return false;
    return !parameters.some((parameter) => /^q=0(\.0{0,3})?$/.test(parameter));
  });
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
