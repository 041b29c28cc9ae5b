import { createLockRouteHandlers, type LockRouteHandlers } from 'page-lock/next';
import { getLockService } from './lock-service';
import { getRequestUser } from './session';

type Method = keyof LockRouteHandlers;

let handlers: Promise<LockRouteHandlers> | undefined;

/**
 * The lock protocol's route handler for one HTTP method. The handlers are built on the first
 * request, not when Next loads the module (at build time too), because the store is chosen and
 * opened lazily: SQLite by default, Redis or Postgres when their URL is set.
 */
export function lockRoute(method: Method): (request: Request) => Promise<Response> {
  return async (request) => {
    handlers ??= getLockService().then((service) =>
      createLockRouteHandlers({ service, getUser: getRequestUser, basePath: '/api/locks' }),
    );
    return (await handlers)[method](request);
  };
}
