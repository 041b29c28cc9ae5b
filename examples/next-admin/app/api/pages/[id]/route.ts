import { LOCK_TOKEN_HEADER, LockNotHeldError, lockErrorResponse } from 'page-lock/server';
import { getLockService } from '../../../../lib/lock-service';
import { getPage, type PageEdit, savePage } from '../../../../lib/pages-db';
import { pageResourceId } from '../../../../lib/resource-ids';
import { getRequestUser } from '../../../../lib/session';

export const runtime = 'nodejs';

const MAX_TITLE_LENGTH = 200;
const MAX_BODY_LENGTH = 100_000;

type RouteContext = { params: Promise<{ id: string }> };

/** A page as the editor loads it: `{ id, title, body, version, fence }`. */
export async function GET(request: Request, { params }: RouteContext): Promise<Response> {
  if (!getRequestUser(request)) return errorResponse(401, 'unauthorized', 'Sign in to read pages');
  const id = pageId((await params).id);
  const page = id === null ? null : getPage(id);
  if (!page) return errorResponse(404, 'not-found', 'No such page');
  const { title, body, version, fence } = page;
  return Response.json(
    { id: page.id, title, body, version, fence },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}

/**
 * Saves a page (DESIGN.md, "Saving safely"). In this order:
 *
 * 1. The body is read first: a slow upload must not arrive after the lock check that let it in.
 * 2. `assertHeld(resourceId, token, user)`: the `Page-Lock-Token` header must be this user's live
 *    lock on the page (423 otherwise, through `lockErrorResponse`).
 * 3. The write is conditional on the version the editor loaded and on the lock's fence. A write
 *    that changed nothing is a 409 `conflict`, never a 200: someone saved since this copy was
 *    loaded, or a newer holder did.
 */
export async function PUT(request: Request, { params }: RouteContext): Promise<Response> {
  const user = getRequestUser(request);
  if (!user) return errorResponse(401, 'unauthorized', 'Sign in to save pages');
  const id = pageId((await params).id);
  if (id === null) return errorResponse(404, 'not-found', 'No such page');
  const edit = await readEdit(request);
  if (typeof edit === 'string') return errorResponse(400, 'bad-request', edit);

  const resourceId = pageResourceId(id);
  const token = request.headers.get(LOCK_TOKEN_HEADER);
  const service = await getLockService();
  try {
    if (!token) {
      // No token at all: the same refusal as a stale one, with the current holder to name.
      const status = await service.get(resourceId);
      const lock = status.status === 'free' ? null : status.lock;
      throw new LockNotHeldError(resourceId, lock ? 'expired' : 'released', lock, service.now());
    }
    // A token is a lease secret of one user's tab: under another user's session it holds nothing.
    const lock = await service.assertHeld(resourceId, token, user);
    const at = service.now();
    const outcome = savePage(id, edit, { fence: lock.fence, by: user.name, at });
    if (outcome.status === 'not-found') return errorResponse(404, 'not-found', 'No such page');
    if (outcome.status === 'conflict') {
      return errorResponse(
        409,
        'conflict',
        'This page was changed since you opened it; reload it to see the saved version',
        at,
      );
    }
    return Response.json(
      { version: outcome.version, savedAt: at },
      { headers: { 'Cache-Control': 'no-store' } },
    );
  } catch (error) {
    return lockErrorResponse(error);
  }
}

function pageId(raw: string): number | null {
  if (!/^[1-9][0-9]{0,15}$/.test(raw)) return null;
  const id = Number(raw);
  return Number.isSafeInteger(id) ? id : null;
}

/** The save's JSON `{ title, body, version }`, or what is wrong with it. */
async function readEdit(request: Request): Promise<PageEdit | string> {
  let value: unknown;
  try {
    value = await request.json();
  } catch {
    return 'Send JSON { title, body, version }';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'Send JSON { title, body, version }';
  }
  const { title, body, version } = value as Record<string, unknown>;
  if (typeof title !== 'string' || title.length > MAX_TITLE_LENGTH) {
    return `"title" must be a string of at most ${MAX_TITLE_LENGTH} characters`;
  }
  if (typeof body !== 'string' || body.length > MAX_BODY_LENGTH) {
    return `"body" must be a string of at most ${MAX_BODY_LENGTH} characters`;
  }
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    return '"version" must be the version of the page the editor loaded (a positive integer)';
  }
  return { title, body, version };
}

function errorResponse(status: number, code: string, message: string, now = Date.now()): Response {
  return Response.json(
    { error: { code, message: `[page-lock] [demo] ${message}` }, now },
    { status, headers: { 'Cache-Control': 'no-store' } },
  );
}
