import { describe, expect, it } from 'vitest';
import type { LockStore } from '../../server-adapter/store/lock-store';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import { type LockUser, MAX_QUEUE_LENGTH } from '../../src/protocol/protocol';
import { SseReader } from './event-stream-support';
import {
  type AnswerBody,
  alice,
  BASE,
  bob,
  carol,
  createHarness,
  expectProtocolHeaders,
  type HarnessOptions,
  json,
  START,
  TTL,
} from './handler-harness';

// The ask, answer and leave routes (and the release `reason`) through the real handler and
// service over the memory store.

const PAGE = 'page:42';
const path = (action: string) => `${BASE}/${encodeURIComponent(PAGE)}/${action}`;

function setup(options: HarnessOptions = {}) {
  const h = createHarness(options);
  const ask = (as: LockUser, body: unknown) => h.send('POST', path('ask'), { as, body });
  const answer = (as: LockUser, body: unknown) => h.send('POST', path('answer'), { as, body });
  const leave = (as: LockUser | null, body: unknown) => h.send('POST', path('leave'), { as, body });
  /** Alice holds the page and Bob waits in line: the start of most tests. */
  const aliceHoldsBobWaits = async () => {
    const held = await json(await h.acquire(PAGE, alice, 'tab-a'));
    const queued = await json(await ask(bob, { clientId: 'tab-b', message: 'Typo' }));
    return { token: held.token as string, lock: held.lock, waiter: queued.waiter };
  };
  /**
   * Everything a request could have changed, read without changing anything: the live lock,
   * and the line as the store keeps it (a read of the record as `get` returns it).
   */
  const state = async () => ({
    lock: await h.store.get(PAGE, { now: h.now() }),
    events: h.events.length,
  });
  return { ...h, ask, answer, leave, aliceHoldsBobWaits, state };
}

async function expectError(response: Response, status: number, code: string): Promise<AnswerBody> {
  expect(response.status).toBe(status);
  const body = await json(response);
  expect(body.error.code).toBe(code);
  expect(body.error.message).toMatch(/^\[page-lock\] /);
  expect(body.now).toEqual(expect.any(Number));
  return body;
}

describe('POST {base}/{id}/ask', () => {
  it('puts a blocked user in line: 200 queued with the place and its waiter', async () => {
    const s = setup();
    const held = await json(await s.acquire(PAGE, alice, 'tab-a'));
    s.advance(1_000);
    const response = await s.ask(bob, { clientId: 'tab-b', message: ' Typo in the title ' });
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body).toEqual({
      status: 'queued',
      lock: held.lock,
      place: 1,
      waiter: {
        id: expect.any(String),
        user: bob,
        askedAt: START + 1_000,
        message: 'Typo in the title',
        request: 'pending',
        requestExpiresAt: START + 1_000 + 120_000,
      },
      ttlMs: TTL,
      now: START + 1_000,
    });
    expect(JSON.stringify(body)).not.toMatch(/tab-|clientId|token/);

    // The holder's refresh carries `waiters`; a blocked user's answers carry `waiting`.
    const refreshed = await json(await s.acquire(PAGE, alice, 'tab-a', held.token));
    expect(refreshed.waiters).toEqual([body.waiter]);
    const carolBlocked = await json(await s.acquire(PAGE, carol, 'tab-c'));
    expect(carolBlocked).toMatchObject({ status: 'locked', waiting: 1 });
    const carolLooks = await json(await s.send('GET', `${BASE}/${PAGE}`, { as: carol }));
    expect(carolLooks).toMatchObject({ status: 'locked', waiting: 1 });
  });

  it('leaves waiters and waiting out of the answers while nobody waits', async () => {
    const s = setup();
    const held = await json(await s.acquire(PAGE, alice, 'tab-a'));
    expect(held).not.toHaveProperty('waiters');
    expect(await json(await s.acquire(PAGE, bob, 'tab-b'))).not.toHaveProperty('waiting');
    expect(await json(await s.send('GET', `${BASE}/${PAGE}`, { as: bob }))).not.toHaveProperty(
      'waiting',
    );
  });

  it('hands the page to a waiter whose turn came: its ask answers 200 held, with a fresh token', async () => {
    const s = setup();
    const { token } = await s.aliceHoldsBobWaits();
    expect((await s.beaconRelease(PAGE, token)).status).toBe(204);
    const response = await s.ask(bob, { clientId: 'tab-b', renew: true });
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body).toEqual({
      status: 'held',
      lock: expect.objectContaining({ holder: bob, fence: 2 }),
      token: expect.any(String),
      ttlMs: TTL,
      now: START,
    });
    expect(await s.service.assertHeld(PAGE, body.token, bob)).toEqual(body.lock);
  });

  it('answers 409 not-locked for a free page (acquire it instead), and stores nothing', async () => {
    const memory = createMemoryLockStore();
    const s = setup({ store: memory });
    await expectError(await s.ask(bob, { clientId: 'tab-b' }), 409, 'not-locked');
    expect(memory.size).toBe(0);
  });

  it('answers 400 to the holder’s own other tab: edit here instead', async () => {
    const s = setup();
    const held = await json(await s.acquire(PAGE, alice, 'tab-a'));
    const body = await expectError(await s.ask(alice, { clientId: 'tab-2' }), 400, 'bad-request');
    expect(body.error.message).toMatch(/another tab: edit here instead/);
    expect(body.lock).toEqual(held.lock);
  });

  it(`answers 409 queue-full, with the lock, once ${MAX_QUEUE_LENGTH} tabs wait`, async () => {
    const s = setup();
    const held = await json(await s.acquire(PAGE, alice, 'tab-a'));
    for (let index = 0; index < MAX_QUEUE_LENGTH; index++) {
      expect((await s.ask(bob, { clientId: `tab-b${index}` })).status).toBe(200);
    }
    const before = await s.state();
    const body = await expectError(await s.ask(carol, { clientId: 'tab-c' }), 409, 'queue-full');
    expect(body.lock).toEqual(held.lock);
    expect(await s.state()).toEqual(before);
  });

  it('refuses bad fields with a 400 naming them, and changes nothing', async () => {
    const s = setup();
    await s.aliceHoldsBobWaits();
    const before = await s.state();
    const cases: Array<[unknown, RegExp]> = [
      [{ clientId: 'tab-c', message: 'x'.repeat(201) }, /"message" must be at most 200 characters/],
      [{ clientId: 'tab-c', message: 42 }, /"message" must be a string/],
      [{ clientId: 'tab-c', message: null }, /"message" must be a string/],
      [{ clientId: 'tab-c', renew: 'yes' }, /"renew" must be true or false/],
      [{}, /"clientId"/],
      [{ clientId: 7 }, /"clientId"/],
    ];
    for (const [body, message] of cases) {
      const refused = await expectError(await s.ask(carol, body), 400, 'bad-request');
      expect(refused.error.message).toMatch(message);
    }
    expect(await s.state()).toEqual(before);
  });

  it('needs a session (401), a same-site request (403) and authorize(…, "ask") (403)', async () => {
    const s = setup({
      authorize: (user, _id, action) => !(user.id === carol.id && action === 'ask'),
    });
    await s.aliceHoldsBobWaits();
    const before = await s.state();
    const signedOut = await s.send('POST', path('ask'), { as: null, body: { clientId: 'tab-x' } });
    await expectError(signedOut, 401, 'unauthorized');
    const crossSite = await s.send('POST', path('ask'), {
      as: carol,
      body: { clientId: 'tab-c' },
      headers: { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.test' },
    });
    await expectError(crossSite, 403, 'cross-site');
    const refused = await expectError(await s.ask(carol, { clientId: 'tab-c' }), 403, 'forbidden');
    expect(refused.error.message).toMatch(/may not ask to edit "page:42"/);
    expect(await s.state()).toEqual(before);
  });

  it('answers only POST on the new routes (405 with Allow)', async () => {
    const s = setup();
    for (const action of ['ask', 'answer', 'leave']) {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const response = await s.send(method, path(action));
        await expectError(response, 405, 'method-not-allowed');
        expect(response.headers.get('Allow')).toBe('POST');
      }
    }
  });

  it('answers 501 not-supported on a store without a line; the rest of the protocol works', async () => {
    const { ask: _ask, answer: _answer, leave: _leave, ...withoutLine } = createMemoryLockStore();
    const store: LockStore = withoutLine;
    const s = setup({ store });
    const held = await json(await s.acquire(PAGE, alice, 'tab-a'));
    await expectError(await s.ask(bob, { clientId: 'tab-b' }), 501, 'not-supported');
    const answered = await s.answer(alice, {
      token: held.token,
      waiterId: 'w-1',
      answer: 'decline',
    });
    await expectError(answered, 501, 'not-supported');
    await expectError(await s.leave(bob, { clientId: 'tab-b' }), 501, 'not-supported');
    expect(s.errors).toEqual([]);
    expect((await s.beaconRelease(PAGE, held.token)).status).toBe(204);
  });
});

describe('POST {base}/{id}/answer', () => {
  it('hands over: 200 with the waiter’s lock; the holder’s next refresh is lost (handed-over)', async () => {
    const s = setup();
    const { token, lock, waiter } = await s.aliceHoldsBobWaits();
    s.advance(1_000);
    const response = await s.answer(alice, { token, waiterId: waiter.id, answer: 'hand-over' });
    expect(response.status).toBe(200);
    const passed = {
      resourceId: PAGE,
      holder: bob,
      since: START + 1_000,
      acquiredAt: START + 1_000,
      expiresAt: START + 1_000 + 30_000,
      fence: lock.fence + 1,
    };
    expect(await json(response)).toEqual({
      status: 'handed-over',
      lock: passed,
      now: START + 1_000,
    });
    expect(s.events.at(-1)).toMatchObject({ type: 'handed-over', user: bob, previous: lock });

    const late = await s.acquire(PAGE, alice, 'tab-a', token);
    expect(late.status).toBe(409);
    expect(await json(late)).toMatchObject({ status: 'lost', reason: 'handed-over', lock: passed });
    const bobTakes = await json(await s.ask(bob, { clientId: 'tab-b', renew: true }));
    expect(bobTakes).toMatchObject({ status: 'held', lock: { holder: bob, fence: passed.fence } });
  });

  it('declines: 200 with the line, the waiter keeps its place and sees declined', async () => {
    const s = setup();
    const { token, lock, waiter } = await s.aliceHoldsBobWaits();
    const response = await s.answer(alice, { token, waiterId: waiter.id, answer: 'decline' });
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({
      status: 'declined',
      waiters: [{ ...waiter, request: 'declined' }],
      now: START,
    });
    const bobPolls = await json(await s.ask(bob, { clientId: 'tab-b', renew: true }));
    expect(bobPolls).toMatchObject({ status: 'queued', place: 1, waiter: { request: 'declined' } });
    expect(await s.service.assertHeld(PAGE, token, alice)).toEqual(lock);
  });

  it('answers 409 not-holder to anyone but the holder with its live token, and changes nothing', async () => {
    const s = setup();
    const { token, lock, waiter } = await s.aliceHoldsBobWaits();
    const before = await s.state();
    const stolen = await s.answer(carol, { token, waiterId: waiter.id, answer: 'hand-over' });
    expect((await expectError(stolen, 409, 'not-holder')).lock).toEqual(lock);
    const wrongToken = await s.answer(alice, {
      token: 'not-the-token-0123456789',
      waiterId: waiter.id,
      answer: 'hand-over',
    });
    await expectError(wrongToken, 409, 'not-holder');
    expect(await s.state()).toEqual(before);
  });

  it('hides the lock of a refusal from a user who may not observe it', async () => {
    const s = setup({
      authorize: (user, _id, action) => !(user.id === carol.id && action === 'observe'),
    });
    const { token, waiter } = await s.aliceHoldsBobWaits();
    const stolen = await s.answer(carol, { token, waiterId: waiter.id, answer: 'hand-over' });
    expect(await expectError(stolen, 409, 'not-holder')).not.toHaveProperty('lock');
  });

  it('answers 409 not-queued for a waiter no longer in line', async () => {
    const s = setup();
    const { token, lock, waiter } = await s.aliceHoldsBobWaits();
    expect((await s.leave(bob, { clientId: 'tab-b' })).status).toBe(204);
    const response = await s.answer(alice, { token, waiterId: waiter.id, answer: 'hand-over' });
    expect((await expectError(response, 409, 'not-queued')).lock).toEqual(lock);
    expect(await s.service.assertHeld(PAGE, token, alice)).toEqual(lock);
  });

  it('refuses bad fields with a 400 naming them, and changes nothing', async () => {
    const s = setup();
    const { token, waiter } = await s.aliceHoldsBobWaits();
    const before = await s.state();
    const cases: Array<[unknown, RegExp]> = [
      [
        { token, waiterId: waiter.id, answer: 'maybe' },
        /"answer" must be "hand-over" or "decline"/,
      ],
      [{ token, waiterId: waiter.id }, /"answer"/],
      [{ token, waiterId: '', answer: 'decline' }, /"waiterId"/],
      [{ token, waiterId: 12, answer: 'decline' }, /"waiterId"/],
      [{ token, waiterId: 'w'.repeat(201), answer: 'decline' }, /"waiterId"/],
      [{ waiterId: waiter.id, answer: 'decline' }, /"token"/],
      [{ token: '', waiterId: waiter.id, answer: 'hand-over' }, /"token"/],
    ];
    for (const [body, message] of cases) {
      const refused = await expectError(await s.answer(alice, body), 400, 'bad-request');
      expect(refused.error.message).toMatch(message);
    }
    expect(await s.state()).toEqual(before);
  });
});

describe('POST {base}/{id}/leave', () => {
  it('takes the tab out of the line: 204, with JSON or a text/plain beacon, place or none', async () => {
    const s = setup();
    const { token } = await s.aliceHoldsBobWaits();
    await json(await s.ask(carol, { clientId: 'tab-c' }));

    const left = await s.leave(bob, { clientId: 'tab-b' });
    expect(left.status).toBe(204);
    expectProtocolHeaders(left);
    // The pagehide beacon: text/plain JSON, and the session cookie a browser sends with it.
    const beacon = await s.send('POST', path('leave'), {
      as: carol,
      raw: JSON.stringify({ clientId: 'tab-c' }),
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
    });
    expect(beacon.status).toBe(204);
    // A tab without a place (its beacon came twice) is answered alike.
    expect((await s.leave(bob, { clientId: 'tab-b' })).status).toBe(204);

    const refreshed = await json(await s.acquire(PAGE, alice, 'tab-a', token));
    expect(refreshed).not.toHaveProperty('waiters');
  });

  it('needs a session and a clientId, and changes nothing without them', async () => {
    const s = setup();
    await s.aliceHoldsBobWaits();
    const before = await s.state();
    await expectError(await s.leave(null, { clientId: 'tab-b' }), 401, 'unauthorized');
    await expectError(await s.leave(bob, {}), 400, 'bad-request');
    const crossSite = await s.send('POST', path('leave'), {
      as: bob,
      body: { clientId: 'tab-b' },
      headers: { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.test' },
    });
    await expectError(crossSite, 403, 'cross-site');
    expect(await s.state()).toEqual(before);
  });
});

describe('release with a reason', () => {
  it('takes reason "idle": 204, the event is idle-released, the page passes to the first waiter', async () => {
    const s = setup();
    const { token } = await s.aliceHoldsBobWaits();
    const response = await s.send('POST', path('release'), {
      as: null,
      raw: JSON.stringify({ token, reason: 'idle' }),
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
    });
    expect(response.status).toBe(204);
    expect(s.events.at(-1)).toMatchObject({ type: 'idle-released', resourceId: PAGE });
    expect(await json(await s.send('GET', `${BASE}/${PAGE}`, { as: carol }))).toMatchObject({
      status: 'locked',
      lock: { holder: bob },
    });
  });

  it('refuses any other reason with a 400, and the lock stays held', async () => {
    const s = setup();
    const { token, lock } = await s.aliceHoldsBobWaits();
    const before = await s.state();
    for (const reason of ['bored', 1, null]) {
      const response = await s.send('POST', path('release'), { as: null, body: { token, reason } });
      const body = await expectError(response, 400, 'bad-request');
      expect(body.error.message).toMatch(/"reason" must be "idle"/);
      const deleted = await s.send('DELETE', `${BASE}/${PAGE}`, { body: { token, reason } });
      await expectError(deleted, 400, 'bad-request');
    }
    expect(await s.state()).toEqual(before);
    expect(await s.service.assertHeld(PAGE, token, alice)).toEqual(lock);
  });
});

describe('the live channel and the line', () => {
  it('sends asked, declined, left and handed-over news, with how many wait, as a GET would show it', async () => {
    const s = setup();
    const held = await json(await s.acquire(PAGE, alice, 'tab-a'));
    const response = await s.send('GET', `${BASE}/events?ids=${encodeURIComponent(PAGE)}`, {
      as: carol,
      headers: { Accept: 'text/event-stream' },
    });
    expect(response.status).toBe(200);
    const stream = new SseReader(response.body as ReadableStream<Uint8Array>);
    try {
      expect(await stream.lockAt(1)).toMatchObject({ change: 'snapshot', status: 'locked' });
      const asked = await json(await s.ask(bob, { clientId: 'tab-b' }));
      expect(await stream.lockAt(2)).toMatchObject({
        change: 'asked',
        status: 'locked',
        waiting: 1,
      });
      const waiterId = asked.waiter.id;
      await s.answer(alice, { token: held.token, waiterId, answer: 'decline' });
      expect(await stream.lockAt(3)).toMatchObject({ change: 'declined', waiting: 1 });
      await s.leave(bob, { clientId: 'tab-b' });
      const left = await stream.lockAt(4);
      expect(left).toMatchObject({ change: 'left', status: 'locked' });
      expect(left).not.toHaveProperty('waiting');
      const again = await json(await s.ask(bob, { clientId: 'tab-b' }));
      await stream.lockAt(5);
      await s.answer(alice, { token: held.token, waiterId: again.waiter.id, answer: 'hand-over' });
      expect(await stream.lockAt(6)).toMatchObject({
        change: 'handed-over',
        lock: { holder: bob },
      });
      expect(stream.text).not.toMatch(/tab-|token|clientId/);
    } finally {
      await stream.cancel();
    }
  });

  it('opens (and reopens) with how many wait: a reconnect never shows an empty line', async () => {
    const s = setup();
    await s.acquire(PAGE, alice, 'tab-a');
    await s.ask(bob, { clientId: 'tab-b' });
    const response = await s.send('GET', `${BASE}/events?ids=${encodeURIComponent(PAGE)}`, {
      as: carol,
      headers: { Accept: 'text/event-stream' },
    });
    const stream = new SseReader(response.body as ReadableStream<Uint8Array>);
    try {
      expect(await stream.lockAt(1)).toMatchObject({
        change: 'snapshot',
        status: 'locked',
        waiting: 1,
      });
    } finally {
      await stream.cancel();
    }
  });
});
