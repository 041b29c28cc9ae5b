import { LOCK_TOKEN_HEADER, LockNotHeldError, lockErrorResponse } from 'page-lock/server';
import { getLockService } from '../../../../lib/lock-service';
import { savePage } from '../../../../lib/pages-db';
import { pageResourceId } from '../../../../lib/resource-ids';
import { getRequestUser } from '../../../../lib/session';

export const runtime = 'nodejs';

/**
 * Saves a page. The editor sends its lock token in the `Page-Lock-Token` header; the lock service
 * says whether that token holds the page right now (423 otherwise), and the write goes through
 * only under a fence at least as new as the stored one (DESIGN.md, "Operations").
 */
export async function PUT(
  request: Request,
  { params }: { params: Promise<{ id: string }> },
): Promise<Response> {
  const user = getRequestUser(request);
  if (!user) return errorResponse(401, 'unauthorized', 'Sign in to save pages');
  const id = Number((await params).id);
  if (!Number.isSafeInteger(id) || id <= 0) {
    return errorResponse(404, 'not-found', 'No such page');
  }
  const content = await readContent(request);
  if (!content) return errorResponse(400, 'bad-request', 'Send JSON { title, body } (strings)');

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
    const lock = await service.assertHeld(resourceId, token);
    // A token is a lease secret of one user's tab; under another user's session it holds nothing.
    if (lock.holder.id !== user.id) {
      throw new LockNotHeldError(resourceId, 'taken-over', lock, service.now());
    }
    const at = service.now();
    const outcome = savePage(id, content, { fence: lock.fence, by: user.name, at });
    if (outcome === 'not-found') return errorResponse(404, 'not-found', 'No such page');
    if (outcome === 'stale-fence') {
      // A newer holder saved already: this lease lapsed between the check and the write.
      throw new LockNotHeldError(resourceId, 'edited-meanwhile', null, at);
    }
    return Response.json({ saved: true, fence: lock.fence, savedAt: at });
  } catch (error) {
    return lockErrorResponse(error);
  }
}

async function readContent(request: Request): Promise<{ title: string; body: string } | null> {
  try {
    const value: unknown = await request.json();
    if (typeof value !== 'object' || value === null) return null;
    const { title, body } = value as Record<string, unknown>;
    if (typeof title !== 'string' || typeof body !== 'string') return null;
    if (title.length > 200 || body.length > 100_000) return null;
    return { title, body };
  } catch {
    return null;
  }
}

function errorResponse(status: number, code: string, message: string): Response {
  return Response.json(
    { error: { code, message: `[page-lock] [demo] ${message}` }, now: Date.now() },
    { status, headers: { 'Cache-Control': 'no-store' } },
  );
}
