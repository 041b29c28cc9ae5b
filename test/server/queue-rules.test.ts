import { describe, expect, it } from 'vitest';
import {
  applyAcquire,
  applyAnswer,
  applyAsk,
  applyCheck,
  applyLeave,
  applyRelease,
  type ResourceRecord,
  settleQueue,
} from '../../server-adapter/store/lock-rules';
import type { StoreAskInput } from '../../server-adapter/store/lock-store';

// The line's rules on one record, step by step (the contract suite checks every store keeps them).

const alice = { id: 'alice', name: 'Alice' };
const bob = { id: 'bob', name: 'Bob' };
const carol = { id: 'carol', name: 'Carol' };
const TTL = 90_000;
const GRACE = 30_000;

function ask(user: typeof bob, clientId: string, now: number, extra: Partial<StoreAskInput> = {}) {
  return {
    resourceId: 'page',
    holder: user,
    clientId,
    waiterId: `w-${clientId}`,
    message: null,
    renew: false,
    ttl: TTL,
    askTimeout: 120_000,
    newToken: `t-${clientId}-${now}`,
    maxQueue: 50,
    queueGrace: GRACE,
    now,
    ...extra,
  } satisfies StoreAskInput;
}

function aliceHolds(): ResourceRecord {
  const { next } = applyAcquire(null, {
    resourceId: 'page',
    holder: alice,
    clientId: 'tab-a',
    newToken: 'token-a',
    ttl: TTL,
    now: 1000,
  });
  return next as ResourceRecord;
}

function then<R>(record: ResourceRecord, outcome: { next: ResourceRecord | null; result: R }) {
  return { record: outcome.next ?? record, result: outcome.result };
}

describe('the line', () => {
  it('orders waiters by when they asked and keeps a place on renew', () => {
    let record = aliceHolds();
    let step = then(record, applyAsk(record, ask(bob, 'tab-b', 2000)));
    expect(step.result).toMatchObject({ outcome: 'queued', place: 1 });
    record = step.record;
    step = then(record, applyAsk(record, ask(carol, 'tab-c', 3000)));
    expect(step.result).toMatchObject({ outcome: 'queued', place: 2 });
    record = step.record;
    step = then(record, applyAsk(record, ask(bob, 'tab-b', 4000, { renew: true })));
    expect(step.result).toMatchObject({ outcome: 'queued', place: 1 });
    expect(step.record.lock?.queue?.map((w) => w.clientId)).toEqual(['tab-b', 'tab-c']);
  });

  it('refuses to queue for a free page or for the same user', () => {
    expect(applyAsk(null, ask(bob, 'tab-b', 2000))).toEqual({
      result: { outcome: 'free' },
      next: null,
    });
    const record = aliceHolds();
    expect(applyAsk(record, ask(alice, 'tab-a2', 2000)).result.outcome).toBe('self');
  });

  it('passes a released page to the first waiter, who takes it by reclaiming', () => {
    let record = aliceHolds();
    record = then(record, applyAsk(record, ask(bob, 'tab-b', 2000))).record;
    const released = applyRelease(record, { resourceId: 'page', token: 'token-a', now: 5000 });
    expect(released.result).toMatchObject({
      outcome: 'released',
      passedTo: { holder: bob, clientId: 'tab-b', token: '', fence: 2, expiresAt: 5000 + 30_000 },
    });
    record = released.next as ResourceRecord;
    // Nobody else slips in during the grace.
    const carolTries = applyAcquire(record, {
      resourceId: 'page',
      holder: carol,
      clientId: 'tab-c',
      newToken: 'token-c',
      ttl: TTL,
      now: 6000,
    });
    expect(carolTries.result.outcome).toBe('locked');
    const bobTakes = applyAsk(record, ask(bob, 'tab-b', 7000, { renew: true }));
    expect(bobTakes.result).toMatchObject({
      outcome: 'reclaimed',
      lock: { holder: bob, token: 't-tab-b-7000', fence: 2, expiresAt: 7000 + TTL },
    });
  });

  it('drops a departed waiter and never grants it', () => {
    let record = aliceHolds();
    record = then(record, applyAsk(record, ask(bob, 'tab-b', 2000))).record;
    record = then(record, applyAsk(record, ask(carol, 'tab-c', 50_000))).record;
    // Bob's place lapsed at 92 000; Carol renewed hers at 60 000 (until 150 000).
    record = then(record, applyAsk(record, ask(carol, 'tab-c', 60_000, { renew: true }))).record;
    const released = applyRelease(record, { resourceId: 'page', token: 'token-a', now: 95_000 });
    expect(released.result).toMatchObject({ passedTo: { holder: carol } });
  });

  it('passes a lapsed grant on, and a passed grant that is not taken to the next waiter', () => {
    let record = aliceHolds();
    record = then(record, applyAsk(record, ask(bob, 'tab-b', 2000))).record;
    record = then(record, applyAsk(record, ask(carol, 'tab-c', 3000))).record;
    record = then(record, applyAsk(record, ask(carol, 'tab-c', 85_000, { renew: true }))).record;
    record = then(record, applyAsk(record, ask(bob, 'tab-b', 85_000, { renew: true }))).record;
    // Alice's lease lapsed at 91 000: her late refresh finds the page passed to Bob.
    const late = applyAcquire(record, {
      resourceId: 'page',
      holder: alice,
      clientId: 'tab-a',
      token: 'token-a',
      newToken: 'x',
      ttl: TTL,
      now: 92_000,
    });
    expect(late.result).toMatchObject({
      outcome: 'dead-token',
      ending: 'expired',
      lock: { holder: bob },
    });
    record = late.next as ResourceRecord;
    // Bob never comes: after the grace the page goes to Carol.
    const settledLater = settleQueue(record, 92_000 + GRACE + 1, GRACE);
    expect(settledLater.lock).toMatchObject({ holder: carol, fence: 3, token: '' });
    expect(settledLater.lock?.queue).toBeUndefined();
  });

  it('hands over to exactly the asker, and declines keep the place', () => {
    let record = aliceHolds();
    record = then(record, applyAsk(record, ask(bob, 'tab-b', 2000))).record;
    record = then(record, applyAsk(record, ask(carol, 'tab-c', 3000))).record;
    const wrongToken = applyAnswer(record, {
      resourceId: 'page',
      token: 'nope',
      waiterId: 'w-tab-c',
      answer: 'hand-over',
      now: 4000,
    });
    expect(wrongToken).toMatchObject({ result: { outcome: 'not-holder' }, next: null });
    const declined = applyAnswer(record, {
      resourceId: 'page',
      token: 'token-a',
      waiterId: 'w-tab-b',
      answer: 'decline',
      now: 4000,
    });
    expect(declined.result.outcome).toBe('declined');
    record = declined.next as ResourceRecord;
    expect(record.lock?.queue?.map((w) => [w.clientId, w.request])).toEqual([
      ['tab-b', 'declined'],
      ['tab-c', 'pending'],
    ]);
    const handed = applyAnswer(record, {
      resourceId: 'page',
      token: 'token-a',
      waiterId: 'w-tab-c',
      answer: 'hand-over',
      now: 5000,
      queueGrace: GRACE,
    });
    expect(handed.result).toMatchObject({
      outcome: 'handed-over',
      lock: { holder: carol, clientId: 'tab-c', fence: 2 },
      replaced: { holder: alice },
    });
    record = handed.next as ResourceRecord;
    expect(record.lock?.queue?.map((w) => w.clientId)).toEqual(['tab-b']);
    expect(record.endings.at(-1)).toMatchObject({ token: 'token-a', ending: 'handed-over' });
  });

  it('lets a waiter leave', () => {
    let record = aliceHolds();
    record = then(record, applyAsk(record, ask(bob, 'tab-b', 2000))).record;
    const left = applyLeave(record, { resourceId: 'page', clientId: 'tab-b', now: 3000 });
    expect(left.result.outcome).toBe('left');
    expect(left.next?.lock?.queue).toBeUndefined();
    expect(
      applyLeave(left.next, { resourceId: 'page', clientId: 'tab-b', now: 3000 }).result,
    ).toEqual({
      outcome: 'not-queued',
    });
  });
});

describe('a grant the line made', () => {
  it('is nobody’s by its empty token: a check with it is dead', () => {
    let record = aliceHolds();
    record = then(record, applyAsk(record, ask(bob, 'tab-b', 2000))).record;
    record = applyRelease(record, { resourceId: 'page', token: 'token-a', now: 3000 })
      .next as ResourceRecord;
    expect(record.lock).toMatchObject({ holder: bob, token: '' });
    expect(applyCheck(record, { resourceId: 'page', token: '', now: 4000 }).outcome).toBe('dead');
  });
});
