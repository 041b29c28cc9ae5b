import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpLockAdapter } from '../../src/core/http-adapter';
import { createMemoryLockServer } from '../../src/memory/memory-server';
import { createLockHandlers } from '../../src/msw/lock-handlers';
import type { LockUser } from '../../src/protocol/protocol';
import { runLockAdapterContract } from '../contract/adapter-contract';

// The HTTP adapter over Node's real fetch, answered by MSW from a memory lock server: the same
// handler a real server runs. Who is signed in travels in a test header, as a session would.
const baseUrl = 'http://app.test/api/locks';
const users: Record<string, LockUser> = {
  alice: { id: 'alice', name: 'Alice' },
  bob: { id: 'bob', name: 'Bob' },
};
const network = setupServer();

beforeAll(() => network.listen({ onUnhandledRequest: 'error' }));
afterAll(() => network.close());

runLockAdapterContract(
  'HTTP adapter over fetch + MSW',
  () => {
    const server = createMemoryLockServer({ ttl: 30_000 });
    network.resetHandlers(
      ...createLockHandlers({
        baseUrl,
        server,
        user: (request) => users[request.headers.get('X-Test-User') ?? ''] ?? null,
      }),
    );
    const signedInAs = (name: string) =>
      createHttpLockAdapter({ baseUrl, headers: { 'X-Test-User': name } });
    return {
      alice: signedInAs('alice'),
      bob: signedInAs('bob'),
      advance: (ms) => server.advance(ms),
    };
  },
  { describe, it, expect, beforeEach, afterEach },
);
