import express, { type Express } from 'express';
import { toNodeHandler } from 'page-lock/node';
import { createLockHandler, type LockService } from 'page-lock/server';
import { getDemoUser } from './session';

/** The lock routes' public path: the browser's `baseUrl` and the handler's `basePath` alike. */
export const LOCKS_PATH = '/api/locks';

/** An Express 5 app with page-lock's routes under {@link LOCKS_PATH}. */
export function createApp(service: LockService): Express {
  const app = express();

  // Mounted before any body parser: page-lock reads the raw body itself. Express strips the mount
  // path from `req.url`, toNodeHandler reads `req.originalUrl`, so `basePath` is the full path.
  const locks = createLockHandler({ service, basePath: LOCKS_PATH, getUser: getDemoUser });
  app.use(LOCKS_PATH, toNodeHandler(locks));

  // The app's own JSON routes come after the lock routes (your save route would go here).
  app.use(express.json());
  app.get('/', (_req, res) => {
    res.type('text').send(`page-lock Express example: the lock routes live under ${LOCKS_PATH}\n`);
  });
  return app;
}
