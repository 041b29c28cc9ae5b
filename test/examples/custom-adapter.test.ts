import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDjangoStyleLockAdapter } from '../../examples/custom-adapter/django-style-adapter';
import {
  type DjangoStyleBackend,
  startDjangoStyleBackend,
} from '../../examples/custom-adapter/django-style-backend';
import { LockAdapterError } from '../../src/core/adapter';
import { lockFailureOf } from '../../src/core/lock-failure';
import { runLockAdapterContract } from '../contract';

// The example adapter over Node's real fetch, against the example backend on loopback: the
// backend's own routes and JSON, mapped onto page-lock's lock service.
const users = {
  'alice-key': { id: 'alice', name: 'Alice' },
  'bob-key': { id: 'bob', name: 'Bob' },
};
const signedInAs = (backend: DjangoStyleBackend, key: string) =>
  createDjangoStyleLockAdapter({
    apiUrl: backend.apiUrl,
    headers: () => ({ Authorization: `Token ${key}` }),
  });

runLockAdapterContract(
  'Django-style adapter over real HTTP',
  async () => {
    const backend = await startDjangoStyleBackend({ users, ttl: 30_000 });
    return {
      alice: signedInAs(backend, 'alice-key'),
      bob: signedInAs(backend, 'bob-key'),
      advance: (ms) => backend.advance(ms),
      cleanup: () => backend.close(),
    };
  },
  { describe, it, expect, beforeEach, afterEach },
);

describe('the Django-style adapter', () => {
  let backend: DjangoStyleBackend;
  beforeEach(async () => {
    backend = await startDjangoStyleBackend({ users });
  });
  afterEach(() => backend.close());

  const rejection = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a rejection');
      },
      (error: unknown) => error as LockAdapterError,
    );

  it('turns a 401 into an http LockAdapterError the React half calls unauthorized', async () => {
    const error = await rejection(
      signedInAs(backend, 'nobody').acquire('page:1', { clientId: 'tab-1' }),
    );
    expect(error).toBeInstanceOf(LockAdapterError);
    expect(error).toMatchObject({ kind: 'http', status: 401, code: 'unauthorized' });
    expect(error.message).toContain('Authentication credentials were not provided.');
    expect(lockFailureOf(error)).toBe('unauthorized');
  });

  it('turns a closed port into a network LockAdapterError (offline)', async () => {
    const url = backend.apiUrl;
    await backend.close();
    const adapter = createDjangoStyleLockAdapter({ apiUrl: url });
    const error = await rejection(adapter.status('page:1'));
    expect(error).toMatchObject({ kind: 'network' });
    expect(lockFailureOf(error)).toBe('offline');
    backend = await startDjangoStyleBackend({ users }); // for afterEach
  });

  it('turns an answer it does not know into a protocol LockAdapterError', async () => {
    const adapter = createDjangoStyleLockAdapter({
      apiUrl: backend.apiUrl,
      fetch: async () => Response.json({ editing_session: null }), // no server_time, no lease
    });
    const error = await rejection(adapter.status('page:1'));
    expect(error).toMatchObject({ kind: 'protocol', status: 200 });
    expect(lockFailureOf(error)).toBe('unexpected');
  });

  it('speaks snake_case and ISO times on the wire, epoch ms to the React half', async () => {
    const alice = signedInAs(backend, 'alice-key');
    const held = await alice.acquire('page:1', { clientId: 'tab-1' });
    if (held.status !== 'held') throw new Error('expected a grant');
    const response = await fetch(`${backend.apiUrl}/pages/page%3A1/editing-session/?tab=tab-1`, {
      headers: { Authorization: 'Token alice-key' },
    });
    const body = await response.json();
    expect(body).toEqual({
      page: 'page:1',
      editing_session: {
        page: 'page:1',
        holder: { username: 'alice', display_name: 'Alice', avatar_url: null },
        started_at: new Date(held.lock.since).toISOString(),
        granted_at: new Date(held.lock.acquiredAt).toISOString(),
        expires_at: new Date(held.lock.expiresAt).toISOString(),
        fence: 1,
      },
      is_you: true,
      is_this_tab: true,
      may_take_over: true,
      lease_seconds: 30,
      server_time: expect.any(String),
    });
  });
});
