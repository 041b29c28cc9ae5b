import { Hono } from 'hono';
import { createLockHandler, type LockService } from 'page-lock/server';
import { getDemoUser } from './session';

/** The lock routes' public path: the browser's `baseUrl` and the handler's `basePath` alike. */
export const LOCKS_PATH = '/api/locks';

/** A Hono app with page-lock's routes under {@link LOCKS_PATH}. */
export function createApp(service: LockService): Hono {
  const app = new Hono();
  // Hono speaks Web Request/Response already: the handler takes the raw request as it is, body
  // unread (no adapter, no page-lock/node). Whatever runs Hono (Node, Bun, Deno, Workers) will do.
  const locks = createLockHandler({ service, basePath: LOCKS_PATH, getUser: getDemoUser });
  app.all(LOCKS_PATH, (c) => locks(c.req.raw)); // the batch GET: `GET /api/locks?ids=…`
  app.all(`${LOCKS_PATH}/*`, (c) => locks(c.req.raw));

  app.get('/', (c) => c.text(`page-lock Hono example: the lock routes live under ${LOCKS_PATH}\n`));
  return app;
}
