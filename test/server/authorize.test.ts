import { describe, expect, it } from 'vitest';
import { LockForbiddenError } from '../../server-adapter/service/errors';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import type { LockAction, LockUser } from '../../src/protocol/protocol';
import { alice, BASE, bob, createHarness, json } from './handler-harness';

/** The app's policy: Bob may not open `page:secret`; nobody may take over `page:frozen`. */
const calls: [string, string, LockAction][] = [];
const policy = async (user: LockUser, resourceId: string, action: LockAction) => {
  calls.push([user.id, resourceId, action]);
  await Promise.resolve(); // an async policy, as a database lookup would be
  if (resourceId === 'page:secret') return user.id !== bob.id;
  if (resourceId === 'page:frozen') return action !== 'takeOver';
  return true;
};

const setup = () => {
  calls.length = 0;
  const store = createMemoryLockStore();
  return { ...createHarness({ store, authorize: policy, canTakeOver: () => true }), store };
};

describe('authorize(user, resourceId, action): per-resource authorization', () => {
  it('refuses an acquire with 403 naming the action, before the store is touched', async () => {
    const h = setup();
    const response = await h.acquire('page:secret', bob, 'tab-b');
    expect(response.status).toBe(403);
    const { error } = await json(response);
    expect(error).toEqual({ code: 'forbidden', message: expect.stringContaining('acquire') });
    expect(error.message).toContain('page:secret');
    expect(await h.service.list()).toEqual([]);
    expect(h.store.size).toBe(0);
    expect(calls).toEqual([[bob.id, 'page:secret', 'acquire']]);
  });

  it('refuses a GET (observe) with 403, and lets the allowed user see and hold the page', async () => {
    const h = setup();
    expect((await h.acquire('page:secret', alice, 'tab-a')).status).toBe(200);
    const look = await h.send('GET', `${BASE}/page%3Asecret`, { as: bob });
    expect(look.status).toBe(403);
    expect((await json(look)).error.message).toContain('observe');
    const own = await h.send('GET', `${BASE}/page%3Asecret?clientId=tab-a`, { as: alice });
    expect((await json(own)).status).toBe('held');
  });

  it('refuses a takeover with 403 naming it, keeping the holder', async () => {
    const h = setup();
    const held = await json(await h.acquire('page:frozen', alice, 'tab-a'));
    const response = await h.takeOver('page:frozen', bob, 'tab-b', held.lock.fence);
    expect(response.status).toBe(403);
    expect((await json(response)).error.message).toContain('take over');
    expect(await h.service.assertHeld('page:frozen', held.token, alice)).toMatchObject({
      holder: alice,
    });
  });

  it('answers a refused id of a batch GET with { status: "forbidden" } and fails nothing else', async () => {
    const h = setup();
    await json(await h.acquire('page:1', alice, 'tab-a'));
    await json(await h.acquire('page:secret', alice, 'tab-a'));
    const response = await h.send('GET', `${BASE}?ids=page%3Asecret&ids=page%3A1&ids=page%3A2`, {
      as: bob,
    });
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(Object.keys(body.locks)).toEqual(['page:secret', 'page:1', 'page:2']);
    expect(body.locks['page:secret']).toEqual({ status: 'forbidden' });
    expect(body.locks['page:1']).toMatchObject({ status: 'locked', lock: { holder: alice } });
    expect(body.locks['page:2']).toEqual({ status: 'free' });
  });

  it('needs no authorization for a release: the token alone authorizes it', async () => {
    const h = setup();
    const held = await json(await h.acquire('page:secret', alice, 'tab-a'));
    calls.length = 0;
    expect((await h.beaconRelease('page:secret', held.token)).status).toBe(204);
    expect(calls).toEqual([]);
  });

  it('treats a policy that throws as a failure (500), never a grant', async () => {
    const h = createHarness({
      authorize: () => {
        throw new Error('policy database down');
      },
    });
    const response = await h.acquire('page:1', alice, 'tab-a');
    expect(response.status).toBe(500);
    expect(await h.service.list()).toEqual([]);
  });

  it('allows everything by default', async () => {
    const h = createHarness();
    expect((await h.acquire('page:secret', bob, 'tab-b')).status).toBe(200);
  });

  it('throws LockForbiddenError from the service, for apps that call it directly', async () => {
    const h = setup();
    await expect(
      h.service.acquire('page:secret', bob, { clientId: 'tab-b' }),
    ).rejects.toBeInstanceOf(LockForbiddenError);
    await expect(h.service.get('page:secret', { user: bob })).rejects.toMatchObject({
      code: 'forbidden',
      action: 'observe',
      resourceId: 'page:secret',
    });
  });
});
