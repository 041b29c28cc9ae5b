import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup } from '@testing-library/react';
import { setupServer } from 'msw/node';
import type { ReactNode } from 'react';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { LockAdapter } from '../../src/core/adapter';
import { createHttpLockAdapter } from '../../src/core/http-adapter';
import { setNavigation } from '../../src/core/navigation';
import { pageLifecycle } from '../../src/core/page-lifecycle';
import {
  createMemoryLockServer,
  type MemoryLockServer,
  type MemoryLockServerOptions,
} from '../../src/memory/memory-server';
import { createLockHandlers } from '../../src/msw/lock-handlers';
import type { LockUser } from '../../src/protocol/protocol';
import { PageLockProvider, type PageLockProviderProps } from '../../src/react/page-lock-provider';

// The React tests talk to the real thing: the HTTP adapter, real fetch, MSW handlers from
// `page-lock/msw`, and a memory lock server (the real service and store) with its own clock.

export const baseUrl = 'http://app.test/api/locks';
export const alice: LockUser = { id: 'alice', name: 'Alice' };
export const bob: LockUser = { id: 'bob', name: 'Bob' };
export const carol: LockUser = { id: 'carol', name: 'Carol' };
export const users: Record<string, LockUser> = { alice, bob, carol };

/** One protocol request as the server saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  /** The query string, e.g. `?ids=page%3A1&ids=page%3A2`. */
  search: string;
  /**
   * `acquire` (no token), `refresh` (with a token), `release`, `takeover`, `status`, `batch`,
   * `ask` (`renew`: a waiter's poll), `answer`, `leave`.
   */
  kind:
    | 'acquire'
    | 'refresh'
    | 'release'
    | 'takeover'
    | 'status'
    | 'batch'
    | 'events'
    | 'ask'
    | 'renew'
    | 'answer'
    | 'leave';
  user: string | null;
  body: Record<string, unknown> | null;
}

export interface LockNetwork {
  /** The memory lock server behind the handlers (fresh per test). */
  readonly server: MemoryLockServer;
  /** Every request so far, in order. */
  readonly requests: SeenRequest[];
  /** The requests of one kind so far. */
  count(kind: SeenRequest['kind']): number;
  /**
   * The HTTP adapter of a user (the user rides in a header; the beacon release needs none).
   * Without the live stream unless `live`: these tests prove what polling does alone
   * (test/react/live-hand-over.test.tsx covers the stream).
   */
  adapterFor(user: LockUser, options?: { live?: boolean }): LockAdapter;
  readonly msw: ReturnType<typeof setupServer>;
  /** Reload calls made through the navigation helper. */
  readonly reloads: number;
}

/**
 * Sets up MSW and a fresh memory lock server (ttl 30 s unless told) for each test of the file,
 * and puts the page back to visible with a fake `reload` afterwards.
 */
export function setupLockNetwork(
  options: { ttl?: number; canTakeOver?: MemoryLockServerOptions['canTakeOver'] } = {},
): LockNetwork {
  const msw = setupServer();
  const serverOptions = () => ({
    ttl: options.ttl ?? 30_000,
    ...(options.canTakeOver ? { canTakeOver: options.canTakeOver } : {}),
  });
  let server = createMemoryLockServer(serverOptions());
  let requests: SeenRequest[] = [];
  let reloads = 0;
  let restoreNavigation: () => void = () => {};
  const adapters = new Map<string, LockAdapter>();

  beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }));
  afterAll(() => msw.close());
  beforeEach(() => {
    server = createMemoryLockServer(serverOptions());
    requests = [];
    reloads = 0;
    adapters.clear();
    restoreNavigation = setNavigation({
      reload: () => {
        reloads++;
      },
    });
    msw.resetHandlers(
      ...createLockHandlers({
        baseUrl,
        server,
        user: (request) => users[request.headers.get('x-test-user') ?? ''] ?? null,
      }),
    );
    msw.events.on('request:start', ({ request }) => {
      const seen: SeenRequest = {
        method: request.method,
        path: new URL(request.url).pathname,
        search: new URL(request.url).search,
        kind: kindOf(request),
        user: request.headers.get('x-test-user'),
        body: null,
      };
      requests.push(seen);
      if (request.method === 'POST') {
        void request
          .clone()
          .text()
          .then((text) => {
            seen.body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
            if (seen.kind === 'acquire' && seen.body && 'token' in seen.body) seen.kind = 'refresh';
            if (seen.kind === 'ask' && seen.body?.renew === true) seen.kind = 'renew';
          });
      }
    });
  });
  afterEach(async () => {
    // Unmount (vitest has no globals, so Testing Library cannot do it on its own), then let the
    // sessions stop (one tick) and their releases land before the next test's server starts.
    cleanup();
    await new Promise((resolve) => setTimeout(resolve, 30));
    msw.events.removeAllListeners();
    restoreNavigation();
    pageLifecycle.setVisible(undefined);
  });

  return {
    get server() {
      return server;
    },
    get requests() {
      return requests;
    },
    count: (kind) => requests.filter((request) => request.kind === kind).length,
    adapterFor(user, { live = false } = {}) {
      const key = `${user.id}:${live}`;
      let adapter = adapters.get(key);
      if (!adapter) {
        adapter = createHttpLockAdapter({ baseUrl, headers: { 'X-Test-User': user.id }, live });
        adapters.set(key, adapter);
      }
      return adapter;
    },
    msw,
    get reloads() {
      return reloads;
    },
  };
}

function kindOf(request: Request): SeenRequest['kind'] {
  const path = new URL(request.url).pathname;
  if (request.method === 'GET') {
    if (request.headers.get('Accept')?.includes('text/event-stream')) return 'events';
    return path.endsWith('/api/locks') ? 'batch' : 'status';
  }
  if (path.endsWith('/release')) return 'release';
  if (path.endsWith('/takeover')) return 'takeover';
  for (const kind of ['ask', 'answer', 'leave'] as const)
    if (path.endsWith(`/${kind}`)) return kind;
  return 'acquire';
}

/** A fresh QueryClient, as every test should have (`retry: false`). */
export function createTestQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: { queries: { retry: false }, mutations: { retry: false } },
  });
}

/** A wrapper for `render`/`renderHook`: the app's QueryClient and a provider for one tab. */
export function lockWrapper(
  props: Omit<PageLockProviderProps, 'children'> & { queryClient?: QueryClient },
): (wrapperProps: { children: ReactNode }) => ReactNode {
  const client = props.queryClient ?? createTestQueryClient();
  return ({ children }) => (
    <TestProviders client={client} provider={props}>
      {children}
    </TestProviders>
  );
}

function TestProviders(props: {
  client: QueryClient;
  provider: Omit<PageLockProviderProps, 'children'>;
  children: ReactNode;
}): ReactNode {
  return (
    <QueryClientProvider client={props.client}>
      <PageLockProvider {...props.provider}>{props.children}</PageLockProvider>
    </QueryClientProvider>
  );
}
