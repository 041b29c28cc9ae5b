import { createLockHandler, createLockService, createMemoryLockStore } from 'page-lock/server';
import { getDemoUser } from './session.server';

/** The lock routes' public path: the browser's `baseUrl` and the handler's `basePath` alike. */
export const LOCKS_PATH = '/api/locks';

// One process, so the memory store will do; use page-lock/sqlite (one server) or page-lock/redis
// or page-lock/postgres (several) to keep locks across restarts. Share `lockService` with your
// save actions (`lockService.assertHeld`).
export const lockService = createLockService({ store: createMemoryLockStore() });

export const lockHandler = createLockHandler({
  service: lockService,
  basePath: LOCKS_PATH,
  getUser: getDemoUser,
});
