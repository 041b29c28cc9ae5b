import { describe, expect, it } from 'vitest';
import { alice, BASE, bob, createHarness, json, ORIGIN } from './handler-harness';

describe('what other users see of a holder', () => {
  // An application's session user often carries more than the lock should show.
  const aliceSession = { ...alice, email: 'alice@example.test', roles: ['admin'], csrf: 's3cret' };
  const harness = () =>
    createHarness({
      handler: {
        getUser: (request) => {
          const session = /session=(\w+)/.exec(request.headers.get('Cookie') ?? '')?.[1];
          return session === 'alice' ? aliceSession : session === 'bob' ? bob : null;
        },
      },
    });

  it('is the holder’s id, name and avatar only, never the rest of the session user', async () => {
    const h = harness();
    const held = await json(await h.acquire('page:1', alice, 'tab-a'));
    expect(held.lock.holder).toEqual(alice);
    const answers = [
      await json(await h.acquire('page:1', bob, 'tab-b')),
      await json(await h.send('GET', `${BASE}/page%3A1`, { as: bob })),
      await json(await h.send('GET', `${BASE}?ids=page%3A1`, { as: bob })),
      await json(await h.takeOver('page:1', bob, 'tab-b', held.lock.fence)),
    ];
    for (const answer of answers) expect(JSON.stringify(answer)).not.toMatch(/email|roles|csrf/);
    expect(answers[0]?.lock.holder).toEqual(alice);
    expect(JSON.stringify(await h.service.list())).not.toMatch(/email|roles|csrf/);
    const events = h.events.map(({ lock }) => lock);
    expect(JSON.stringify(events)).not.toMatch(/email|roles|csrf/);
  });
});

describe('a body the network cut off', () => {
  it('is a 400 for the client, not a 500 reported as a server failure', async () => {
    const h = createHarness();
    const cutOff = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"clientId":"tab'));
      },
      pull(controller) {
        controller.error(new TypeError('terminated: other side closed'));
      },
    });
    const response = await h.handler(
      new Request(`${ORIGIN}${BASE}/page%3A1`, {
        method: 'POST',
        headers: { Cookie: 'session=alice' },
        body: cutOff,
        duplex: 'half',
      } as RequestInit),
    );
    expect(response.status).toBe(400);
    expect((await json(response)).error).toEqual({
      code: 'bad-request',
      message: expect.stringContaining('"body"'),
    });
    expect(h.errors).toEqual([]);
    expect(await h.service.list()).toEqual([]);
  });
});
