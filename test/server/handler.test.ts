import { describe, expect, it } from 'vitest';
import {
  alice,
  BASE,
  bob,
  carol,
  createHarness,
  expectProtocolHeaders,
  json,
  START,
  TTL,
} from './handler-harness';

describe('POST {base}/{id}: acquire', () => {
  it('grants a free page: 200 with the lock, a token, ttlMs and now', async () => {
    const h = createHarness();
    const response = await h.acquire('page:42', alice, 'tab-a');
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body).toEqual({
      status: 'held',
      lock: {
        resourceId: 'page:42',
        holder: alice,
        since: START,
        acquiredAt: START,
        expiresAt: START + TTL,
        fence: 1,
      },
      token: expect.any(String),
      ttlMs: TTL,
      now: START,
    });
    expect(body.token.length).toBeGreaterThanOrEqual(22);
    expect(body).not.toHaveProperty('resumed');
    expect(await h.service.assertHeld('page:42', body.token, alice)).toMatchObject({ fence: 1 });
  });

  it('answers 423 to someone else, with the holder, isSelf and canTakeOver, and never leaks the token or clientId', async () => {
    const h = createHarness();
    await h.acquire('page:42', alice, 'tab-a');
    h.advance(1_000);
    const response = await h.acquire('page:42', bob, 'tab-b');
    expect(response.status).toBe(423);
    const body = await json(response);
    expect(body).toEqual({
      status: 'locked',
      lock: expect.objectContaining({ holder: alice, fence: 1, since: START }),
      isSelf: false,
      canTakeOver: false,
      ttlMs: TTL,
      now: START + 1_000,
    });
    expect(JSON.stringify(body)).not.toMatch(/token|tab-a|clientId/);
  });

  it('answers 423 with isSelf and canTakeOver to the same user in another tab', async () => {
    const h = createHarness();
    await h.acquire('page:42', alice, 'tab-a');
    const body = await json(await h.acquire('page:42', alice, 'tab-2'));
    expect(body).toMatchObject({ status: 'locked', isSelf: true, canTakeOver: true });
  });

  it('reclaims after a reload: same clientId without a token gets the same lock under a fresh token', async () => {
    const h = createHarness();
    const first = await json(await h.acquire('page:42', alice, 'tab-a'));
    h.advance(30_000);
    const response = await h.acquire('page:42', alice, 'tab-a');
    expect(response.status).toBe(200);
    const again = await json(response);
    expect(again.token).not.toBe(first.token);
    expect(again.lock).toEqual({ ...first.lock, expiresAt: START + 30_000 + TTL });
    expect(again).not.toHaveProperty('resumed');
  });

  it('lets a late pagehide beacon from before the reload end nothing', async () => {
    const h = createHarness();
    const before = await json(await h.acquire('page:42', alice, 'tab-a'));
    const reloaded = await json(await h.acquire('page:42', alice, 'tab-a'));
    expect((await h.beaconRelease('page:42', before.token)).status).toBe(409);
    expect(await h.service.assertHeld('page:42', reloaded.token, alice)).toMatchObject({
      fence: before.lock.fence,
      since: before.lock.since,
    });
  });

  it('refreshes with the live token: same fence and since, expiresAt moves', async () => {
    const h = createHarness();
    const first = await json(await h.acquire('page:42', alice, 'tab-a'));
    h.advance(10_000);
    const body = await json(await h.acquire('page:42', alice, 'tab-a', first.token));
    expect(body).toMatchObject({
      status: 'held',
      token: first.token,
      lock: { fence: 1, since: START, acquiredAt: START, expiresAt: START + 10_000 + TTL },
      now: START + 10_000,
    });
    expect(body).not.toHaveProperty('resumed');
  });

  it('resumes a lapsed lease nobody took since, saying resumed: true', async () => {
    const h = createHarness();
    const first = await json(await h.acquire('page:42', alice, 'tab-a'));
    h.advance(TTL + 5_000);
    const response = await h.acquire('page:42', alice, 'tab-a', first.token);
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body).toMatchObject({
      status: 'held',
      resumed: true,
      token: first.token,
      lock: { fence: 1, since: START, expiresAt: START + TTL + 5_000 + TTL },
    });
  });
});

describe('POST {base}/{id} with a token that is no longer live: 409 lost, nothing granted', () => {
  it('says released after the tab released it', async () => {
    const h = createHarness();
    const first = await json(await h.acquire('page:42', alice, 'tab-a'));
    expect((await h.beaconRelease('page:42', first.token)).status).toBe(204);
    const response = await h.acquire('page:42', alice, 'tab-a', first.token);
    expect(response.status).toBe(409);
    expect(await json(response)).toEqual({ status: 'lost', reason: 'released', now: START });
    expect(await h.service.list()).toEqual([]);
  });

  it('says taken-over, with the new holder', async () => {
    const h = createHarness({ canTakeOver: () => true });
    const first = await json(await h.acquire('page:42', alice, 'tab-a'));
    await h.takeOver('page:42', bob, 'tab-b', 1);
    const body = await json(await h.acquire('page:42', alice, 'tab-a', first.token));
    expect(body).toMatchObject({ status: 'lost', reason: 'taken-over', lock: { holder: bob } });
  });

  it('says expired when the lease lapsed and someone else holds it now', async () => {
    const h = createHarness();
    const first = await json(await h.acquire('page:42', alice, 'tab-a'));
    h.advance(TTL);
    await h.acquire('page:42', bob, 'tab-b');
    const response = await h.acquire('page:42', alice, 'tab-a', first.token);
    expect(response.status).toBe(409);
    expect(await json(response)).toMatchObject({
      status: 'lost',
      reason: 'expired',
      lock: { holder: bob, fence: 2 },
    });
    expect((await h.service.list()).map((lock) => lock.holder.id)).toEqual([bob.id]);
  });

  it('says edited-meanwhile when someone else held it since, even though it is free now', async () => {
    const h = createHarness();
    const first = await json(await h.acquire('page:42', alice, 'tab-a'));
    h.advance(TTL);
    const bobs = await json(await h.acquire('page:42', bob, 'tab-b'));
    await h.beaconRelease('page:42', bobs.token);
    const response = await h.acquire('page:42', alice, 'tab-a', first.token);
    expect(response.status).toBe(409);
    const body = await json(response);
    expect(body).toEqual({ status: 'lost', reason: 'edited-meanwhile', now: START + TTL });
    expect(await h.service.list()).toEqual([]);
  });
});

describe('releasing', () => {
  it('accepts the sendBeacon form: POST /release, text/plain, no session; the token alone authorizes', async () => {
    const h = createHarness();
    const first = await json(await h.acquire('page:42', alice, 'tab-a'));
    const response = await h.beaconRelease('page:42', first.token);
    expect(response.status).toBe(204);
    expectProtocolHeaders(response);
    expect(await response.text()).toBe('');
    expect(await h.service.list()).toEqual([]);
    expect(h.events.at(-1)).toMatchObject({ type: 'released', by: 'holder' });
  });

  it('accepts DELETE {base}/{id} with { token }', async () => {
    const h = createHarness();
    const first = await json(await h.acquire('page:42', alice, 'tab-a'));
    const response = await h.send('DELETE', `${BASE}/page%3A42`, { body: { token: first.token } });
    expect(response.status).toBe(204);
    expectProtocolHeaders(response);
    expect(await h.service.list()).toEqual([]);
  });

  it('answers 204 when the resource is already free', async () => {
    const h = createHarness();
    const first = await json(await h.acquire('page:42', alice, 'tab-a'));
    await h.beaconRelease('page:42', first.token);
    expect((await h.beaconRelease('page:42', first.token)).status).toBe(204);
    expect((await h.beaconRelease('never-locked', 'whatever')).status).toBe(204);
  });

  it('answers 409 not-holder without showing the lock when someone else holds it', async () => {
    const h = createHarness();
    await json(await h.acquire('page:42', alice, 'tab-a'));
    const response = await h.beaconRelease('page:42', 'not-alices-token');
    expect(response.status).toBe(409);
    const body = await json(response);
    expect(body).toEqual({
      error: { code: 'not-holder', message: expect.any(String) },
      now: START,
    });
    expect(JSON.stringify(body)).not.toContain('Alice');
    expect((await h.service.list()).map((lock) => lock.holder.id)).toEqual([alice.id]);
  });
});

describe('POST {base}/{id}/takeover', () => {
  it('grants the lock to another user when canTakeOver allows it; the old token is dead', async () => {
    const h = createHarness({ canTakeOver: (user) => user.id === bob.id });
    const alices = await json(await h.acquire('page:42', alice, 'tab-a'));
    h.advance(2_000);
    const response = await h.takeOver('page:42', bob, 'tab-b', 1);
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body).toMatchObject({
      status: 'held',
      lock: { holder: bob, fence: 2, since: START + 2_000 },
      ttlMs: TTL,
      now: START + 2_000,
    });
    expect(body.token).not.toBe(alices.token);
    expect(body).not.toHaveProperty('resumed');
  });

  it('lets the same user take it to another tab ("edit here instead"), keeping since', async () => {
    const h = createHarness();
    await h.acquire('page:42', alice, 'tab-a');
    h.advance(5_000);
    const body = await json(await h.takeOver('page:42', alice, 'tab-2', 1));
    expect(body).toMatchObject({ status: 'held', lock: { fence: 2, since: START } });
  });

  it('takes a free resource whose fence is still the one seen', async () => {
    const h = createHarness();
    const first = await json(await h.acquire('page:42', alice, 'tab-a'));
    await h.beaconRelease('page:42', first.token);
    const response = await h.takeOver('page:42', bob, 'tab-b', 1);
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ lock: { holder: bob, fence: 2 } });
  });

  it('answers 409 fence-mismatch with the current lock when the fence moved on, before checking permission', async () => {
    const h = createHarness(); // nobody may take over: a 403 would come if permission were first
    await h.acquire('page:42', alice, 'tab-a');
    const response = await h.takeOver('page:42', bob, 'tab-b', 0);
    expect(response.status).toBe(409);
    expect(await json(response)).toEqual({
      error: { code: 'fence-mismatch', message: expect.any(String) },
      lock: expect.objectContaining({ holder: alice, fence: 1 }),
      now: START,
    });
    expect((await h.service.list())[0]).toMatchObject({ holder: alice, fence: 1 });
  });

  it('answers 409 without a lock when the resource is free but its fence moved on', async () => {
    const h = createHarness();
    const first = await json(await h.acquire('page:42', alice, 'tab-a'));
    await h.beaconRelease('page:42', first.token);
    const response = await h.takeOver('page:42', bob, 'tab-b', 0);
    expect(response.status).toBe(409);
    const body = await json(response);
    expect(body.error.code).toBe('fence-mismatch');
    expect(body).not.toHaveProperty('lock');
    expect(await h.service.list()).toEqual([]);
  });

  it('answers 403 forbidden with the lock when canTakeOver refuses (async policy)', async () => {
    const h = createHarness({ canTakeOver: async (user) => user.id === carol.id });
    await h.acquire('page:42', alice, 'tab-a');
    const response = await h.takeOver('page:42', bob, 'tab-b', 1);
    expect(response.status).toBe(403);
    expect(await json(response)).toEqual({
      error: { code: 'forbidden', message: expect.any(String) },
      lock: expect.objectContaining({ holder: alice, fence: 1 }),
      now: START,
    });
    expect((await h.service.list())[0]).toMatchObject({ holder: alice, fence: 1 });
  });
});

describe('GET {base}/{id}: observe without acquiring', () => {
  it('says free, with ttlMs and now', async () => {
    const h = createHarness();
    const response = await h.send('GET', `${BASE}/page%3A42`);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ status: 'free', ttlMs: TTL, now: START });
  });

  it('says locked to someone else, with canTakeOver from the policy', async () => {
    const h = createHarness({ canTakeOver: async () => true });
    await h.acquire('page:42', alice, 'tab-a');
    const body = await json(await h.send('GET', `${BASE}/page%3A42?clientId=tab-b`, { as: bob }));
    expect(body).toEqual({
      status: 'locked',
      lock: expect.objectContaining({ holder: alice }),
      isSelf: false,
      canTakeOver: true,
      ttlMs: TTL,
      now: START,
    });
  });

  it("says held to the holder's own tab, and locked (isSelf) to the same user's other tab", async () => {
    const h = createHarness();
    await h.acquire('page:42', alice, 'tab-a');
    const own = await json(await h.send('GET', `${BASE}/page%3A42?clientId=tab-a`));
    expect(own).toMatchObject({ status: 'held', isSelf: true, canTakeOver: true });
    const other = await json(await h.send('GET', `${BASE}/page%3A42?clientId=tab-2`));
    expect(other).toMatchObject({ status: 'locked', isSelf: true, canTakeOver: true });
    const noTab = await json(await h.send('GET', `${BASE}/page%3A42`));
    expect(noTab).toMatchObject({ status: 'locked', isSelf: true });
  });

  it('changes nothing: a GET never acquires', async () => {
    const h = createHarness();
    await h.send('GET', `${BASE}/page%3A42?clientId=tab-a`);
    expect(await h.service.list()).toEqual([]);
    expect(h.events).toEqual([]);
  });
});

describe('GET {base}?ids=…: batch status', () => {
  it('answers each id: free, locked, held', async () => {
    const h = createHarness();
    await h.acquire('page:1', alice, 'tab-a');
    await h.acquire('page:2', bob, 'tab-b');
    const response = await h.send(
      'GET',
      `${BASE}?ids=page%3A1&ids=page%3A2&ids=page%3A3&clientId=tab-a`,
    );
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({
      locks: {
        'page:1': {
          status: 'held',
          lock: expect.objectContaining({ holder: alice }),
          isSelf: true,
        },
        'page:2': {
          status: 'locked',
          lock: expect.objectContaining({ holder: bob }),
          isSelf: false,
        },
        'page:3': { status: 'free' },
      },
      ttlMs: TTL,
      now: START,
    });
  });

  it('accepts 100 ids and refuses 101 with 400 naming ids', async () => {
    const h = createHarness();
    const query = (n: number) =>
      Array.from({ length: n }, (_, i) => `ids=${encodeURIComponent(`page:${i}`)}`).join('&');
    const hundred = await h.send('GET', `${BASE}?${query(100)}`);
    expect(hundred.status).toBe(200);
    expect(Object.keys((await json(hundred)).locks)).toHaveLength(100);
    const tooMany = await h.send('GET', `${BASE}?${query(101)}`);
    expect(tooMany.status).toBe(400);
    const body = await json(tooMany);
    expect(body.error.code).toBe('bad-request');
    expect(body.error.message).toContain('"ids"');
  });

  it('answers an id named like an Object property as its own entry', async () => {
    const h = createHarness();
    await h.acquire('__proto__', bob, 'tab-b');
    const response = await h.send('GET', `${BASE}?ids=__proto__&ids=constructor`);
    const text = await response.clone().text();
    expect(text).toContain('"__proto__":{"status":"locked"');
    expect(text).toContain('"constructor":{"status":"free"}');
  });

  it('answers on the base path with a trailing slash too', async () => {
    const h = createHarness();
    expect((await h.send('GET', `${BASE}/?ids=a`)).status).toBe(200);
  });
});

describe('ids in the path', () => {
  it('decodes each segment itself, so an id may hold "/" and ":"', async () => {
    const h = createHarness();
    const path = `${BASE}/${encodeURIComponent('page/42:draft')}`;
    expect(path).toBe(`${BASE}/page%2F42%3Adraft`);
    const held = await json(await h.send('POST', path, { body: { clientId: 'tab-a' } }));
    expect(held.lock.resourceId).toBe('page/42:draft');
    const seen = await json(await h.send('GET', path, { as: bob }));
    expect(seen).toMatchObject({ status: 'locked', lock: { resourceId: 'page/42:draft' } });
    expect((await h.send('GET', `${BASE}/page/42:draft`)).status).toBe(404);
    expect((await h.beaconRelease('page/42:draft', held.token)).status).toBe(204);
    expect(await h.service.list()).toEqual([]);
  });
});
