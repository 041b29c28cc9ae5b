import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { toNodeHandler } from 'page-lock/node';
import { createLockHandler, type LockService } from 'page-lock/server';
import { getDemoUser } from './session';

/** The lock routes' public path: the browser's `baseUrl` and the handler's `basePath` alike. */
export const LOCKS_PATH = '/api/locks';

/** A Fastify 5 app with page-lock's routes under {@link LOCKS_PATH}. */
export function createApp(service: LockService): FastifyInstance {
  const app = Fastify();
  const locks = toNodeHandler(
    createLockHandler({ service, basePath: LOCKS_PATH, getUser: getDemoUser }),
  );

  // A plugin scope of its own, so turning Fastify's body parsers off here leaves the rest of the
  // app (and its JSON routes) as it was. page-lock reads the raw body itself.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // Accept every content type (the pagehide release is text/plain) and leave the body unread.
    scope.addContentTypeParser('*', (_request, _body, done) => done(null));

    const serve = (request: FastifyRequest, reply: FastifyReply) => {
      reply.hijack(); // page-lock writes the response to the raw Node response itself
      return locks(request.raw, reply.raw);
    };
    scope.all(LOCKS_PATH, serve); // the batch GET: `GET /api/locks?ids=…`
    scope.all(`${LOCKS_PATH}/*`, serve);
  });

  // The app's own routes keep Fastify's JSON parser (your save route would go here).
  app.get('/', async () => `page-lock Fastify example: the lock routes live under ${LOCKS_PATH}\n`);
  return app;
}
