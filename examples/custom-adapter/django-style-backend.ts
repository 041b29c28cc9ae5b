/**
 * A small backend with its own lock API, as a Django (REST framework) or Rails app would expose
 * it: snake_case JSON, ISO 8601 times, trailing slashes, 201 for a new session. It stands in for
 * the app the adapter in django-style-adapter.ts talks to; here it maps that API onto page-lock's
 * own lock service (memory store), so the adapter contract can run against real HTTP.
 *
 *   POST   /api/editing-sessions/                  { page, tab }                 → 201 session | 409 page_locked
 *   PUT    /api/editing-sessions/{token}/heartbeat/ { page, tab }                → 200 session | 410 session_ended
 *   DELETE /api/editing-sessions/{token}/?page=…                                 → 204 | 409 not_holder
 *   POST   /api/editing-sessions/{token}/end/?page=…  (the pagehide beacon)       → 204 | 409 not_holder
 *   POST   /api/editing-sessions/takeover/         { page, tab, expected_fence } → 201 session | 409 fence_mismatch | 403 permission_denied
 *   GET    /api/pages/{page}/editing-session/?tab=…                              → 200 { editing_session, … }
 *   GET    /api/editing-sessions/?page=…&page=…&tab=…                            → 200 { results: […] }
 *
 * Who is signed in comes from `Authorization: Token <key>`, as DRF's TokenAuthentication reads it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
// In an application: `from 'page-lock/server'`. The repository's tests run this file on the source.
import {
  createLockService,
  createMemoryLockStore,
  type Lock,
  LockInputError,
  type LockUser,
  PageLockError,
} from '../../server-adapter';

export interface DjangoStyleBackendOptions {
  /** API keys and the users they sign in. */
  users: Record<string, LockUser>;
  /** Lease length in ms. Default 30 000. */
  ttl?: number;
}

export interface DjangoStyleBackend {
  /** Where the API lives once listening, e.g. `http://127.0.0.1:53011/api`. */
  readonly apiUrl: string;
  /** Moves the lock service's clock forward (tests let leases lapse with it). */
  advance(ms: number): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 8 * 1024;
const MAX_PAGES = 100;

/** Answers an error as DRF does: `{ detail, code }`, plus what the client needs to show. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.detail ?? status));
  }
}

/** A lock as this API shows it: the fields a Django serializer would have. */
function sessionJson(lock: Lock) {
  return {
    page: lock.resourceId,
    holder: {
      username: lock.holder.id,
      display_name: lock.holder.name,
      avatar_url: lock.holder.avatarUrl ?? null,
    },
    started_at: new Date(lock.since).toISOString(),
    granted_at: new Date(lock.acquiredAt).toISOString(),
    expires_at: new Date(lock.expiresAt).toISOString(),
    fence: lock.fence,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Starts the backend on loopback (`port` 0: any free port). */
export async function startDjangoStyleBackend(
  options: DjangoStyleBackendOptions,
  port = 0,
): Promise<DjangoStyleBackend> {
  let offset = 0;
  const ttl = options.ttl ?? 30_000;
  const service = createLockService({
    store: createMemoryLockStore(),
    ttl,
    now: () => Date.now() + offset,
  });
  const leaseSeconds = ttl / 1000;

  const userOf = (request: IncomingMessage): LockUser => {
    const [scheme, key] = (request.headers.authorization ?? '').split(' ');
    const user = scheme === 'Token' && key ? options.users[key] : undefined;
    if (!user) {
      throw new HttpError(401, {
        detail: 'Authentication credentials were not provided.',
        code: 'not_authenticated',
      });
    }
    return user;
  };

  const mySession = (result: { lock: Lock; token: string; now: number }, resumed = false) => ({
    session_token: result.token,
    ...sessionJson(result.lock),
    lease_seconds: leaseSeconds,
    resumed,
    server_time: iso(result.now),
  });

  /** The answer when someone else (or this user's other tab) holds the page. */
  const pageLocked = (lock: Lock, isYou: boolean, mayTakeOver: boolean, now: number) =>
    new HttpError(409, {
      detail: `${lock.holder.name} is editing this page.`,
      code: 'page_locked',
      current_session: sessionJson(lock),
      is_you: isYou,
      may_take_over: mayTakeOver,
      lease_seconds: leaseSeconds,
      server_time: iso(now),
    });

  const route = async (
    request: IncomingMessage,
    url: URL,
  ): Promise<{ status: number; body?: unknown }> => {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== 'api' || url.pathname.endsWith('/') === false) throw notFound();
    const [, collection, id, action, extra] = parts;
    const method = request.method ?? 'GET';

    if (collection === 'pages' && id !== undefined && action === 'editing-session' && !extra) {
      if (method !== 'GET') throw notAllowed(method);
      const user = userOf(request);
      const tab = url.searchParams.get('tab') ?? undefined;
      const status = await service.get(id, { user, clientId: tab });
      const now = service.now();
      if (status.status === 'free') {
        return ok({
          page: id,
          editing_session: null,
          lease_seconds: leaseSeconds,
          server_time: iso(now),
        });
      }
      return ok({
        page: id,
        editing_session: sessionJson(status.lock),
        is_you: status.isSelf,
        is_this_tab: status.status === 'held',
        may_take_over: status.canTakeOver,
        lease_seconds: leaseSeconds,
        server_time: iso(now),
      });
    }
    if (collection !== 'editing-sessions') throw notFound();

    if (id === undefined) {
      if (method === 'GET') {
        const user = userOf(request);
        const pages = url.searchParams.getAll('page');
        if (pages.length === 0 || pages.length > MAX_PAGES) {
          throw new HttpError(400, { page: [`Give 1 to ${MAX_PAGES} pages.`] });
        }
        const tab = url.searchParams.get('tab') ?? undefined;
        const entries = await service.getMany(pages, { user, clientId: tab });
        const now = service.now();
        const results = pages.map((page) => {
          const entry = entries[page];
          if (!entry || entry.status === 'free') return { page, editing_session: null };
          if (entry.status === 'forbidden') return { page, forbidden: true };
          return {
            page,
            editing_session: sessionJson(entry.lock),
            is_you: entry.isSelf,
            is_this_tab: entry.status === 'held',
          };
        });
        return ok({ results, lease_seconds: leaseSeconds, server_time: iso(now) });
      }
      if (method !== 'POST') throw notAllowed(method);
      const user = userOf(request);
      const { page, tab } = fields(await readJson(request), ['page', 'tab']);
      const result = await service.acquire(page, user, { clientId: tab });
      if (result.status === 'held') return { status: 201, body: mySession(result) };
      if (result.status === 'locked') {
        throw pageLocked(result.lock, result.isSelf, result.canTakeOver, result.now);
      }
      throw new HttpError(409, { detail: 'Not granted.', code: 'not_granted' });
    }

    if (id === 'takeover' && !action) {
      if (method !== 'POST') throw notAllowed(method);
      const user = userOf(request);
      const body = await readJson(request);
      const { page, tab } = fields(body, ['page', 'tab']);
      const expectedFence = body.expected_fence;
      if (typeof expectedFence !== 'number') {
        throw new HttpError(400, { expected_fence: ['A whole number is required.'] });
      }
      const result = await service.takeOver(page, user, { clientId: tab, expectedFence });
      if (result.status === 'held') return { status: 201, body: mySession(result) };
      const current = result.lock ? sessionJson(result.lock) : null;
      if (result.status === 'forbidden') {
        throw new HttpError(403, {
          detail: 'You do not have permission to take over this page.',
          code: 'permission_denied',
          current_session: current,
          server_time: iso(result.now),
        });
      }
      throw new HttpError(409, {
        detail: 'The editing session changed since you saw it.',
        code: 'fence_mismatch',
        current_session: current,
        server_time: iso(result.now),
      });
    }

    const token = id;
    if (action === 'heartbeat' && !extra) {
      if (method !== 'PUT') throw notAllowed(method);
      const user = userOf(request);
      const { page, tab } = fields(await readJson(request), ['page', 'tab']);
      const result = await service.acquire(page, user, { clientId: tab, token });
      if (result.status === 'held') {
        return { status: 200, body: mySession(result, result.via === 'resumed') };
      }
      if (result.status === 'locked') {
        throw pageLocked(result.lock, result.isSelf, result.canTakeOver, result.now);
      }
      throw new HttpError(410, {
        detail: 'This editing session has ended.',
        code: 'session_ended',
        reason: result.reason.replaceAll('-', '_'),
        current_session: result.lock ? sessionJson(result.lock) : null,
        is_you: result.isSelf,
        server_time: iso(result.now),
      });
    }

    // Ending a session needs no signed-in user: its token is the proof, and a beacon sent on
    // pagehide carries no Authorization header (in Django: @csrf_exempt on `end/` for the same reason).
    if ((action === undefined && method === 'DELETE') || (action === 'end' && !extra)) {
      if (action === 'end' && method !== 'POST') throw notAllowed(method);
      await drain(request);
      const page = url.searchParams.get('page');
      if (!page) throw new HttpError(400, { page: ['This query parameter is required.'] });
      const result = await service.release(page, token);
      if (result.status === 'not-holder') {
        throw new HttpError(409, {
          detail: 'Someone else is editing this page.',
          code: 'not_holder',
          server_time: iso(result.now),
        });
      }
      return { status: 204 };
    }
    if (action === undefined) throw notAllowed(method);
    throw notFound();
  };

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://backend.invalid');
    route(request, url).then(
      (answer) => send(response, answer.status, answer.body),
      (error: unknown) => {
        if (error instanceof HttpError) return send(response, error.status, error.body);
        if (error instanceof LockInputError) {
          return send(response, 400, { [snakeCase(error.field)]: [error.message] });
        }
        if (error instanceof PageLockError && error.code === 'forbidden') {
          return send(response, 403, { detail: error.message, code: 'permission_denied' });
        }
        send(response, 500, { detail: 'A server error occurred.', code: 'server_error' });
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;

  return {
    apiUrl: `http://127.0.0.1:${bound}/api`,
    advance(ms) {
      offset += ms;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

const ok = (body: unknown) => ({ status: 200, body });
const notFound = () => new HttpError(404, { detail: 'Not found.', code: 'not_found' });
const notAllowed = (method: string) =>
  new HttpError(405, { detail: `Method "${method}" not allowed.`, code: 'method_not_allowed' });
const snakeCase = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function send(response: ServerResponse, status: number, body: unknown): void {
  if (body === undefined) {
    response.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}

async function readText(request: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of request) {
    text += chunk;
    if (text.length > MAX_BODY_BYTES) {
      throw new HttpError(413, { detail: 'Request body too large.', code: 'too_large' });
    }
  }
  return text;
}

async function drain(request: IncomingMessage): Promise<void> {
  await readText(request);
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readText(request);
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
      return body as Record<string, unknown>;
    }
  } catch {
    // Answered below.
  }
  throw new HttpError(400, { detail: 'JSON parse error.', code: 'parse_error' });
}

function fields<Name extends string>(
  body: Record<string, unknown>,
  names: readonly Name[],
): Record<Name, string> {
  const found = {} as Record<Name, string>;
  for (const name of names) {
    const value = body[name];
    if (typeof value !== 'string' || value === '') {
      throw new HttpError(400, { [name]: ['This field is required.'] });
    }
    found[name] = value;
  }
  return found;
}
