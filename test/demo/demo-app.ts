import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
// The package's source, as the `demo` project resolves the demo's own `page-lock/*` imports:
// one module instance, so the errors the service throws are the ones `lockErrorResponse` knows.
import type { LockService, LockStore } from '../../server-adapter';
import { createSqliteLockStore } from '../../server-adapter/sqlite';
import { DEMO_DIR } from '../e2e/support/demo-build';

/** A route handler as Next calls it. */
export type RouteHandler = (
  request: Request,
  context: { params: Promise<Record<string, string | string[]>> },
) => Promise<Response>;

interface PagesRouteModule {
  GET: RouteHandler;
  PUT: RouteHandler;
}

interface LocksRouteModule {
  GET: RouteHandler;
  POST: RouteHandler;
}

interface LockServiceModule {
  setLockService(service: LockService): void;
  createDemoLockService(
    store: LockStore,
    options?: { ttl?: number; now?: () => number },
  ): LockService;
}

/** One demo user's save as the test saw it. */
export interface SaveAttempt {
  who: string;
  /** The version the editor loaded and sent. */
  sentVersion: number;
  title: string;
  body: string;
  status: number;
  /** The version the server answered with, on a 2xx. */
  version?: number;
}

export interface Page {
  id: number;
  title: string;
  body: string;
  version: number;
  fence: number;
}

/**
 * The demo's real route modules (`app/api/pages/[id]/route.ts`, `app/api/locks/[[...lock]]`),
 * loaded in this process over a SQLite lock store and a clock the test moves. Imported by path
 * at run time, so the root typecheck does not follow them into the demo (which `next build`
 * checks against the built package).
 */
export interface DemoApp {
  /** The clock of the lock service (epoch ms). */
  clock: { now: number };
  readonly ttl: number;
  /**
   * Runs between `assertHeld` and the write of the save route, for the token given: what lets a
   * test put another request into the gap between a check and its write.
   */
  afterCheck: ((token: string) => Promise<void>) | null;
  /** A fresh content database (`content.db` in a new data folder), the three seeded pages. */
  freshContent(): string;
  acquire(
    user: string,
    resourceId: string,
  ): Promise<{ status: number; token?: string; fence?: number }>;
  getPage(user: string, id: number): Promise<Page>;
  /** `PUT /api/pages/{id}`; `body` may be a stream, for a slow upload. */
  put(user: string, id: number, token: string | null, body: BodyInit): Promise<Response>;
  /** A save of `{ title, body, version }`, recorded in `saves`. */
  save(
    user: string,
    id: number,
    token: string | null,
    edit: Omit<SaveAttempt, 'who' | 'status' | 'version'>,
  ): Promise<SaveAttempt>;
  saves: SaveAttempt[];
  stop(): void;
}

const ORIGIN = 'http://127.0.0.1:3000';

export async function loadDemoApp(options: { ttl: number; start: number }): Promise<DemoApp> {
  const root = mkdtempSync(path.join(tmpdir(), 'page-lock-demo-routes-'));
  const lockStore = createSqliteLockStore({ filename: path.join(root, 'locks.db') });
  const services = (await import(path.join(DEMO_DIR, 'lib/lock-service.ts'))) as LockServiceModule;
  const clock = { now: options.start };
  const service = services.createDemoLockService(lockStore, {
    ttl: options.ttl,
    now: () => clock.now,
  });
  const app: DemoApp = {
    clock,
    ttl: options.ttl,
    afterCheck: null,
    saves: [],
    freshContent() {
      const dir = mkdtempSync(path.join(root, 'content-'));
      process.env.PAGE_LOCK_DATA_DIR = dir;
      return dir;
    },
    async acquire(user, resourceId) {
      const response = await locks.POST(
        request(user, `/api/locks/${encodeURIComponent(resourceId)}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ clientId: `tab-of-${user}-${crypto.randomUUID()}` }),
        }),
        { params: Promise.resolve({ lock: [resourceId] }) },
      );
      const answer = (await response.json()) as { token?: string; lock?: { fence: number } };
      return { status: response.status, token: answer.token, fence: answer.lock?.fence };
    },
    async getPage(user, id) {
      const response = await pages.GET(request(user, `/api/pages/${id}`), params(id));
      if (response.status !== 200) throw new Error(`GET /api/pages/${id}: ${response.status}`);
      return (await response.json()) as Page;
    },
    put(user, id, token, body) {
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (token !== null) headers['Page-Lock-Token'] = token;
      const init: RequestInit & { duplex?: 'half' } = { method: 'PUT', headers, body };
      if (body instanceof ReadableStream) init.duplex = 'half';
      return pages.PUT(request(user, `/api/pages/${id}`, init), params(id));
    },
    async save(user, id, token, edit) {
      const response = await app.put(
        user,
        id,
        token,
        JSON.stringify({ title: edit.title, body: edit.body, version: edit.sentVersion }),
      );
      const answer = (await response.json()) as { version?: number };
      const attempt: SaveAttempt = { who: user, ...edit, status: response.status };
      if (response.ok) attempt.version = answer.version;
      app.saves.push(attempt);
      return attempt;
    },
    stop() {
      lockStore.close?.();
      rmSync(root, { recursive: true, force: true });
    },
  };
  // The service the routes use: the demo's, with the test's hook between check and write.
  services.setLockService({
    ...service,
    async assertHeld(...args: Parameters<LockService['assertHeld']>) {
      const lock = await service.assertHeld(...args);
      await app.afterCheck?.(args[1]);
      return lock;
    },
  });
  const pages = (await import(
    path.join(DEMO_DIR, 'app/api/pages/[id]/route.ts')
  )) as PagesRouteModule;
  const locks = (await import(
    path.join(DEMO_DIR, 'app/api/locks/[[...lock]]/route.ts')
  )) as LocksRouteModule;
  return app;
}

function request(user: string, pathname: string, init: RequestInit = {}): Request {
  const headers = new Headers(init.headers);
  headers.set('Cookie', `page-lock-demo-user=${user}`);
  return new Request(`${ORIGIN}${pathname}`, { ...init, headers });
}

function params(id: number) {
  return { params: Promise.resolve({ id: String(id) }) };
}

/**
 * "No 2xx save silently overwritten": every accepted save is either what the page holds now, or
 * was the version a later accepted save was made from (its author had loaded it).
 */
export function silentlyOverwritten(saves: readonly SaveAttempt[], page: Page): SaveAttempt[] {
  return saves.filter((save) => {
    if (save.version === undefined) return false;
    const isCurrent =
      save.version === page.version && save.title === page.title && save.body === page.body;
    const seenByLaterSave = saves.some(
      (later) => later.version !== undefined && later.sentVersion === save.version,
    );
    return !isCurrent && !seenByLaterSave;
  });
}
