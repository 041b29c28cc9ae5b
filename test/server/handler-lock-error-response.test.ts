import { afterEach, describe, expect, it, vi } from 'vitest';
import { lockErrorResponse } from '../../server-adapter/index';
import { LockStoreError } from '../../server-adapter/service/errors';
import { alice, bob, createHarness, json, START, TTL } from './handler-harness';

/** What an application's save route does: check the token, or answer with lockErrorResponse. */
async function save(
  h: ReturnType<typeof createHarness>,
  resourceId: string,
  token: string,
  user = alice,
) {
  try {
    const lock = await h.service.assertHeld(resourceId, token, user);
    return Response.json({ saved: true, fence: lock.fence });
  } catch (error) {
    return lockErrorResponse(error, { onError: (e) => h.errors.push(e) });
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('lockErrorResponse: the save route’s refusal', () => {
  it('lets a save with the live token through', async () => {
    const h = createHarness();
    const held = await json(await h.acquire('page:42', alice, 'tab-a'));
    expect(await (await save(h, 'page:42', held.token)).json()).toEqual({ saved: true, fence: 1 });
  });

  it('answers 423 lock-not-held with reason and the new holder after a takeover', async () => {
    const h = createHarness({ canTakeOver: () => true });
    const held = await json(await h.acquire('page:42', alice, 'tab-a'));
    h.advance(1_000);
    await h.takeOver('page:42', bob, 'tab-b', 1);
    const response = await save(h, 'page:42', held.token);
    expect(response.status).toBe(423);
    expect(await json(response)).toEqual({
      error: { code: 'lock-not-held', message: expect.stringContaining('page:42') },
      reason: 'taken-over',
      lock: expect.objectContaining({ holder: bob, fence: 2 }),
      now: START + 1_000,
    });
  });

  it('answers 423 without a lock when the token was released and the page is free', async () => {
    const h = createHarness();
    const held = await json(await h.acquire('page:42', alice, 'tab-a'));
    await h.beaconRelease('page:42', held.token);
    const body = await json(await save(h, 'page:42', held.token));
    expect(body).toMatchObject({ error: { code: 'lock-not-held' }, reason: 'released' });
    expect(body).not.toHaveProperty('lock');
  });

  it('answers 423 expired when the lease lapsed', async () => {
    const h = createHarness();
    const held = await json(await h.acquire('page:42', alice, 'tab-a'));
    h.advance(TTL);
    const response = await save(h, 'page:42', held.token);
    expect(response.status).toBe(423);
    expect(await json(response)).toMatchObject({ reason: 'expired', now: START + TTL });
  });

  it('answers 400 to a bad resource id (LockInputError)', async () => {
    const h = createHarness();
    const response = await save(h, '', 'a-token');
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({
      error: { code: 'bad-request', message: expect.stringContaining('"resourceId"') },
      now: START,
    });
  });

  it('answers 500 with no internals to a store failure, and reports it', async () => {
    const failure = new Error('connect ECONNREFUSED 10.0.0.7:6379 password=hunter2');
    const error = new LockStoreError('assertHeld', failure, START);
    const errors: unknown[] = [];
    const response = lockErrorResponse(error, { onError: (e) => errors.push(e) });
    expect(response.status).toBe(500);
    const text = await response.clone().text();
    expect(text).not.toMatch(/ECONNREFUSED|hunter2|assertHeld/);
    expect(await json(response)).toEqual({
      error: { code: 'store-error', message: expect.any(String) },
      now: START,
    });
    expect(errors).toEqual([error]);
  });

  it('answers 500 to anything else, with now from the given clock, logging to console.error by default', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const response = lockErrorResponse(new TypeError('cannot read x of undefined'), {
      now: () => 123,
    });
    expect(response.status).toBe(500);
    const body = await json(response);
    expect(body).toEqual({ error: { code: 'store-error', message: expect.any(String) }, now: 123 });
    expect(JSON.stringify(body)).not.toContain('undefined');
    expect(logged).toHaveBeenCalledOnce();
  });

  it('survives an onError that throws', async () => {
    const response = lockErrorResponse(new Error('boom'), {
      onError: () => {
        throw new Error('logger down');
      },
    });
    expect(response.status).toBe(500);
  });
});

describe('lockErrorResponse: refusals that are not the lock’s', () => {
  it('answers a busy store with 503 busy and Retry-After, reporting nothing as a failure', async () => {
    const { LockBusyError } = await import('../../server-adapter/service/errors');
    const reported: unknown[] = [];
    const response = lockErrorResponse(new LockBusyError('[page-lock] [sqlite] busy', START), {
      onError: (e) => reported.push(e),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('Retry-After')).toBe('1');
    expect(await json(response)).toEqual({
      error: { code: 'busy', message: '[page-lock] [sqlite] busy' },
      now: START,
    });
    expect(reported).toEqual([]);
  });

  it('answers an authorize refusal with 403 forbidden', async () => {
    const { LockForbiddenError } = await import('../../server-adapter/service/errors');
    const response = lockErrorResponse(new LockForbiddenError('page:1', 'acquire', START));
    expect(response.status).toBe(403);
    expect((await json(response)).error.code).toBe('forbidden');
  });
});

describe('the old tab after “edit here instead”', () => {
  it('is told the lock is its own user’s now (isSelf), not a rival’s', async () => {
    const h = createHarness();
    const first = await json(await h.acquire('page:42', alice, 'tab-a'));
    await h.takeOver('page:42', alice, 'tab-b', first.lock.fence);
    const refresh = await h.acquire('page:42', alice, 'tab-a', first.token);
    expect(refresh.status).toBe(409);
    expect(await json(refresh)).toMatchObject({
      status: 'lost',
      reason: 'taken-over',
      isSelf: true,
      lock: { holder: alice },
    });
    const takenByBob = createHarness({ canTakeOver: () => true });
    const held = await json(await takenByBob.acquire('page:42', alice, 'tab-a'));
    await takenByBob.takeOver('page:42', bob, 'tab-b', held.lock.fence);
    const lost = await json(await takenByBob.acquire('page:42', alice, 'tab-a', held.token));
    expect(lost).toMatchObject({ reason: 'taken-over', isSelf: false, lock: { holder: bob } });
  });
});
