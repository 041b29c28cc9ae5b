import type { IncomingMessage, ServerResponse } from 'node:http';
import { lockErrorResponse } from '../handler/lock-error-response';
import { errorBody, jsonResponse } from '../handler/responses';
import { bodyWasRead, type NodeRequest, toWebRequest } from './node-request';
import { writeResponse } from './node-response';

/** A Web-standard handler, such as the one `createLockHandler` (`page-lock/server`) returns. */
export type WebHandler = (request: Request) => Response | Promise<Response>;

/**
 * A `node:http` request listener that is also Express middleware (`next` is accepted) and fits a
 * Fastify route given its raw `request.raw` / `reply.raw`. The promise resolves once the answer
 * is written; it never rejects.
 */
export type NodeHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => Promise<void>;

export interface NodeHandlerOptions {
  /**
   * Where a 500's real error goes (a body parser read the body first, or the handler threw);
   * the response hides it. Default: `console.error`, and the body parser mistake only once, so
   * polling does not flood the log.
   */
  onError?: (error: unknown, req: IncomingMessage) => void;
}

/** The mistake {@link toNodeHandler} reports when a body parser got to the body first. */
export const BODY_ALREADY_READ_MESSAGE =
  '[page-lock] [node] A body parser read the request body before page-lock could. ' +
  'toNodeHandler() reads the raw body itself: mount it before any body parser ' +
  "(Express: app.use('/api/locks', toNodeHandler(handler)) above app.use(express.json())), " +
  'or keep the parser off its routes (Fastify: register them in a plugin scope that calls ' +
  "removeAllContentTypeParsers() and addContentTypeParser('*', …) to leave the body unread). " +
  'See page-lock docs/frameworks.md.';

/**
 * Serves a Web handler (`createLockHandler`'s) from Node's `http` server, Express or Fastify.
 *
 * It builds a Web `Request` from the Node request (method, every header with Host, the full
 * original URL, the raw body as a stream) with a `signal` that fires when the client goes away,
 * calls the handler, and writes its `Response` back (status, every header, the body).
 *
 * The URL is Express's `req.originalUrl` when there is one, so `basePath` is the path the browser
 * uses whatever the mount path: `app.use('/api/locks', toNodeHandler(createLockHandler({ basePath:
 * '/api/locks', … })))`. Every request it is given is answered (404 outside `basePath`): mount it
 * at the base path, not in front of the whole app.
 *
 * The body is read raw: mount it before any body parser. When one got there first, the request
 * is answered with the protocol's 500 and the fix is logged ({@link BODY_ALREADY_READ_MESSAGE}).
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { toNodeHandler } from 'page-lock/node';
 * import { createLockHandler, createLockService } from 'page-lock/server';
 *
 * const handler = createLockHandler({ service, basePath: '/api/locks', getUser });
 * createServer(toNodeHandler(handler)).listen(3000);
 * ```
 */
export function toNodeHandler(handler: WebHandler, options: NodeHandlerOptions = {}): NodeHandler {
  if (typeof handler !== 'function') {
    throw new Error(
      '[page-lock] [node] toNodeHandler(handler) needs a Web handler, e.g. createLockHandler(…)',
    );
  }
  let toldOfBodyParser = false;
  const report = (error: unknown, req: IncomingMessage): void => {
    try {
      if (options.onError) {
        // An async reporter fits the type too: its rejection, unhandled, would take Node down.
        const returned: unknown = options.onError(error, req);
        if (typeof (returned as PromiseLike<unknown> | null)?.then === 'function') {
          Promise.resolve(returned).catch(() => {});
        }
      } else if (error instanceof Error && error.message === BODY_ALREADY_READ_MESSAGE) {
        if (!toldOfBodyParser) console.error(BODY_ALREADY_READ_MESSAGE);
        toldOfBodyParser = true;
      } else {
        console.error('[page-lock] [node] Unexpected error while answering a lock request:', error);
      }
    } catch {
      // A failing logger must not leave the request unanswered.
    }
  };

  const answer = async (req: NodeRequest, signal: AbortSignal): Promise<Response> => {
    if (bodyWasRead(req)) {
      return lockErrorResponse(new Error(BODY_ALREADY_READ_MESSAGE), {
        onError: (error) => report(error, req),
      });
    }
    let request: Request;
    try {
      request = toWebRequest(req, signal);
    } catch {
      // What Node accepts and `Request` refuses (`TRACE`, say) is no lock request.
      const message = `[page-lock] [node] Cannot serve a ${req.method} request`;
      return jsonResponse(400, errorBody('bad-request', message, Date.now()));
    }
    return handler(request);
  };

  return async (req, res, next) => {
    const client = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) client.abort();
    });
    try {
      const response = await answer(req, client.signal);
      if (client.signal.aborted) {
        await response.body?.cancel().catch(() => {});
        return;
      }
      await writeResponse(response, req, res, client.signal);
    } catch (error) {
      if (next) return next(error);
      report(error, req);
      if (res.headersSent) res.destroy();
      else
        await writeResponse(
          lockErrorResponse(error, { onError: () => {} }),
          req,
          res,
          client.signal,
        );
    }
  };
}
