import { type HttpHandler, http } from 'msw';
import {
  getDefaultMemoryLockServer,
  type MemoryLockServer,
  type MemoryLockServerUser,
} from '../memory/memory-server';

export interface LockHandlersOptions {
  /**
   * Where the app's adapter sends its requests, as given to `createHttpLockAdapter`: a path
   * (`/api/locks`, any origin) or an absolute URL (`https://example.com/api/locks`). The handlers
   * answer the base path and everything below it.
   */
  baseUrl: string;
  /** The memory lock server that decides. Default: the page's shared one (`getDefaultMemoryLockServer`). */
  server?: MemoryLockServer;
  /**
   * Who is signed in: a user, or a function of the request giving one, or null for a 401 (e.g.
   * read a test header to play two users through one handler set).
   */
  user: MemoryLockServerUser;
}

/**
 * MSW 2 request handlers that answer page-lock's wire protocol from a memory lock server, for
 * your own tests (`setupServer` from `msw/node`) and stories (`setupWorker`, msw-storybook-addon).
 *
 * @example
 * const server = createMemoryLockServer();
 * setupServer(...createLockHandlers({ baseUrl: '/api/locks', server, user: alice }));
 */
export function createLockHandlers(options: LockHandlersOptions): HttpHandler[] {
  const { baseUrl, user } = options;
  if (typeof baseUrl !== 'string' || baseUrl === '') {
    throw new Error('[page-lock] [msw] Missing option "baseUrl", e.g. "/api/locks"');
  }
  if (user === undefined) {
    throw new Error('[page-lock] [msw] Missing option "user" (a user, a function, or null)');
  }
  const server = options.server ?? getDefaultMemoryLockServer();
  const base = baseUrl.replace(/\/+$/, '');
  const basePath = new URL(base, 'http://page-lock.invalid').pathname.replace(/\/+$/, '');
  // A path matches on any origin: Node has no page to resolve it against, and a story's page
  // origin is whatever Storybook runs on.
  const pattern = base.startsWith('/') ? `*${base}` : base;
  const answer = ({ request }: { request: Request }): Promise<Response> =>
    server.handle(request, user, basePath);
  return [http.all(pattern, answer), http.all(`${pattern}/*`, answer)];
}
