import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type LockAdapter, LockAdapterError } from '../../src/core/adapter';
import { createHttpLockAdapter, type LockBeacon } from '../../src/core/http-adapter';
import { createMemoryLockServer, type MemoryLockServer } from '../../src/memory/memory-server';
import { createLockHandlers } from '../../src/msw/lock-handlers';
import type {
  AskResponse,
  HeldResponse,
  LockUser,
  QueuedResponse,
} from '../../src/protocol/protocol';

// Ask, answer and leave through the HTTP adapter over Node's real fetch, answered by MSW from a
// memory lock server (the real handler and service). Who is signed in travels in a cookie, as
// a session would; a beacon carries it too.

const baseUrl = 'http://app.test/api/locks';
const PAGE = 'pages/42';
const bobUser: LockUser = { id: 'bob', name: 'Bob' };
const users: Record<string, LockUser> = {
  alice: { id: 'alice', name: 'Alice' },
  bob: bobUser,
  carol: { id: 'carol', name: 'Carol' },
};
const network = setupServer();
const sessionUser = (request: Request): LockUser | null => {
  const session = /session=(\w+)/.exec(request.headers.get('Cookie') ?? '')?.[1];
  return users[session ?? ''] ?? null;
};
let lockServer: MemoryLockServer;
/** Every request that reached the network, as the server saw it. */
let seen: Request[];

beforeAll(() => network.listen({ onUnhandledRequest: 'error' }));
afterAll(() => network.close());
beforeEach(() => {
  lockServer = createMemoryLockServer({ ttl: 30_000 });
  seen = [];
  network.resetHandlers(
    ...createLockHandlers({
      baseUrl,
      server: lockServer,
      user: sessionUser,
    }),
  );
  network.events.on('request:start', ({ request }) => {
    seen.push(request.clone());
  });
});
afterEach(() => {
  network.events.removeAllListeners();
});

/** A beacon as a browser sends it: a POST with the Blob as body and type, and the cookie. */
function beaconAs(name: string) {
  const delivered: Promise<unknown>[] = [];
  const sendBeacon = vi.fn<LockBeacon>((url, data) => {
    delivered.push(
      data.text().then((body) =>
        fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': data.type, Cookie: `session=${name}` },
          body,
        }),
      ),
    );
    return true;
  });
  return { sendBeacon, delivered };
}

function adapterFor(name: string, beacon?: LockBeacon): LockAdapter {
  return createHttpLockAdapter({
    baseUrl,
    headers: { Cookie: `session=${name}` },
    sendBeacon: beacon ?? false,
  });
}

async function adapterError(promise: Promise<unknown>): Promise<LockAdapterError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the call to reject');
    },
    (rejected: unknown) => rejected,
  );
  expect(error).toBeInstanceOf(LockAdapterError);
  return error as LockAdapterError;
}

function heldOf(answer: { status: string }): HeldResponse {
  if (answer.status !== 'held') throw new Error(`expected held, got ${answer.status}`);
  return answer as HeldResponse;
}

function queuedOf(answer: AskResponse): QueuedResponse {
  if (answer.status !== 'queued') throw new Error(`expected queued, got ${answer.status}`);
  return answer;
}

async function aliceHoldsBobWaits() {
  const alice = adapterFor('alice');
  const bob = adapterFor('bob');
  const held = heldOf(await alice.acquire(PAGE, { clientId: 'tab-a' }));
  const queued = queuedOf(
    await (bob.ask as NonNullable<LockAdapter['ask']>)(PAGE, {
      clientId: 'tab-b',
      message: 'Typo',
    }),
  );
  return { alice, bob, held, queued };
}

/** The adapter's optional line methods, which the HTTP adapter always has. */
function line(adapter: LockAdapter) {
  const { ask, answer, leave } = adapter;
  if (!ask || !answer || !leave) throw new Error('the HTTP adapter has ask, answer and leave');
  return { ask, answer, leave };
}

describe('createHttpLockAdapter: ask', () => {
  it('asks to edit: POST {base}/{id}/ask with the client id and note, answered queued', async () => {
    const { held, queued } = await aliceHoldsBobWaits();
    expect(queued).toEqual({
      status: 'queued',
      lock: held.lock,
      place: 1,
      waiter: {
        id: expect.any(String),
        user: bobUser,
        askedAt: expect.any(Number),
        message: 'Typo',
        request: 'pending',
        requestExpiresAt: queued.waiter.askedAt + 120_000,
      },
      ttlMs: 30_000,
      now: expect.any(Number),
    });
    const sent = seen.at(-1) as Request;
    expect(sent.method).toBe('POST');
    expect(sent.url).toBe(`${baseUrl}/pages%2F42/ask`);
    expect(await sent.json()).toEqual({ clientId: 'tab-b', message: 'Typo' });
  });

  it('sends renew only when asked to, and the holder’s refresh then shows the waiter', async () => {
    const { alice, bob, held, queued } = await aliceHoldsBobWaits();
    const polled = queuedOf(await line(bob).ask(PAGE, { clientId: 'tab-b', renew: true }));
    expect(await (seen.at(-1) as Request).json()).toEqual({ clientId: 'tab-b', renew: true });
    expect(polled.waiter).toEqual(queued.waiter);
    const refreshed = heldOf(await alice.acquire(PAGE, { clientId: 'tab-a', token: held.token }));
    expect(refreshed.waiters).toEqual([queued.waiter]);
    const carolBlocked = await adapterFor('carol').acquire(PAGE, { clientId: 'tab-c' });
    expect(carolBlocked).toMatchObject({ status: 'locked', waiting: 1 });
    const carolLooks = await adapterFor('carol').status(PAGE);
    expect(carolLooks).toMatchObject({ status: 'locked', waiting: 1 });
  });

  it('answers held to the tab the page was passed to', async () => {
    const { alice, bob, held } = await aliceHoldsBobWaits();
    expect(await alice.release(PAGE, held.token)).toBe('released');
    const taken = heldOf(await line(bob).ask(PAGE, { clientId: 'tab-b', renew: true }));
    expect(taken.lock).toMatchObject({ holder: bobUser, fence: held.lock.fence + 1 });
    expect(await lockServer.service.assertHeld(PAGE, taken.token, bobUser)).toEqual(taken.lock);
  });

  it('rejects with the protocol’s code: not-locked, queue-full, bad-request, not-supported', async () => {
    const bob = adapterFor('bob');
    const free = await adapterError(line(bob).ask(PAGE, { clientId: 'tab-b' }));
    expect(free).toMatchObject({ kind: 'http', status: 409, code: 'not-locked' });

    heldOf(await adapterFor('alice').acquire(PAGE, { clientId: 'tab-a' }));
    const self = await adapterError(line(adapterFor('alice')).ask(PAGE, { clientId: 'tab-2' }));
    expect(self).toMatchObject({ kind: 'http', status: 400, code: 'bad-request' });
    const tooLong = await adapterError(
      line(bob).ask(PAGE, { clientId: 'tab-b', message: 'x'.repeat(201) }),
    );
    expect(tooLong).toMatchObject({ status: 400, code: 'bad-request' });
    expect(tooLong.message).toMatch(/"message" must be at most 200 characters/);

    // A custom store without a line.
    lockServer.store.ask = undefined;
    const unsupported = await adapterError(line(bob).ask(PAGE, { clientId: 'tab-b' }));
    expect(unsupported).toMatchObject({ kind: 'http', status: 501, code: 'not-supported' });
  });

  it('refuses an answer that is not the protocol (protocol error)', async () => {
    const bob = adapterFor('bob');
    const bodies = [
      { status: 'queued', place: 1 },
      { status: 'queued', lock: null, place: '1', waiter: {}, ttlMs: 1, now: 1 },
      { status: 'held', lock: {}, token: 't', ttlMs: 1, now: 1 },
    ];
    for (const body of bodies) {
      network.use(http.post(`${baseUrl}/:id/ask`, () => HttpResponse.json(body), { once: true }));
      const error = await adapterError(line(bob).ask(PAGE, { clientId: 'tab-b' }));
      expect(error.kind).toBe('protocol');
    }
    // A held answer whose waiters are not waiters is not the protocol either.
    const { held, queued } = await aliceHoldsBobWaits();
    network.use(
      http.post(
        `${baseUrl}/:id`,
        () =>
          HttpResponse.json({
            ...held,
            waiters: [{ ...queued.waiter, request: 'maybe' }],
          }),
        { once: true },
      ),
    );
    const badWaiters = await adapterError(
      adapterFor('alice').acquire(PAGE, { clientId: 'tab-a', token: held.token }),
    );
    expect(badWaiters.kind).toBe('protocol');
  });
});

describe('createHttpLockAdapter: answer', () => {
  it('hands over: POST {base}/{id}/answer, the waiter’s lock back; the holder’s refresh is lost', async () => {
    const { alice, held, queued } = await aliceHoldsBobWaits();
    const answered = await line(alice).answer(PAGE, {
      token: held.token,
      waiterId: queued.waiter.id,
      answer: 'hand-over',
    });
    expect(answered).toEqual({
      status: 'handed-over',
      lock: expect.objectContaining({ holder: bobUser, fence: held.lock.fence + 1 }),
      now: expect.any(Number),
    });
    const sent = seen.at(-1) as Request;
    expect(sent.url).toBe(`${baseUrl}/pages%2F42/answer`);
    expect(await sent.json()).toEqual({
      token: held.token,
      waiterId: queued.waiter.id,
      answer: 'hand-over',
    });
    const late = await alice.acquire(PAGE, { clientId: 'tab-a', token: held.token });
    expect(late).toMatchObject({ status: 'lost', reason: 'handed-over' });
  });

  it('declines: the line back, with the waiter’s request declined', async () => {
    const { alice, held, queued } = await aliceHoldsBobWaits();
    const answered = await line(alice).answer(PAGE, {
      token: held.token,
      waiterId: queued.waiter.id,
      answer: 'decline',
    });
    expect(answered).toEqual({
      status: 'declined',
      waiters: [{ ...queued.waiter, request: 'declined' }],
      now: expect.any(Number),
    });
  });

  it('rejects a refused answer with its code (not-holder, not-queued), changing nothing', async () => {
    const { alice, bob, held, queued } = await aliceHoldsBobWaits();
    const stolen = await adapterError(
      line(bob).answer(PAGE, {
        token: held.token,
        waiterId: queued.waiter.id,
        answer: 'hand-over',
      }),
    );
    expect(stolen).toMatchObject({ kind: 'http', status: 409, code: 'not-holder' });
    const unknown = await adapterError(
      line(alice).answer(PAGE, { token: held.token, waiterId: 'nobody-here', answer: 'decline' }),
    );
    expect(unknown).toMatchObject({ kind: 'http', status: 409, code: 'not-queued' });
    const refreshed = heldOf(await alice.acquire(PAGE, { clientId: 'tab-a', token: held.token }));
    expect(refreshed.waiters).toEqual([queued.waiter]);
  });

  it('refuses an answer body that is not the protocol (protocol error)', async () => {
    const { alice, held, queued } = await aliceHoldsBobWaits();
    network.use(
      http.post(`${baseUrl}/:id/answer`, () =>
        HttpResponse.json({ status: 'declined', waiters: 'bob', now: 1 }),
      ),
    );
    const error = await adapterError(
      line(alice).answer(PAGE, {
        token: held.token,
        waiterId: queued.waiter.id,
        answer: 'decline',
      }),
    );
    expect(error.kind).toBe('protocol');
  });
});

describe('createHttpLockAdapter: leave', () => {
  it('leaves the line: POST {base}/{id}/leave, and the holder no longer sees the waiter', async () => {
    const { alice, bob, held } = await aliceHoldsBobWaits();
    await expect(line(bob).leave(PAGE, 'tab-b')).resolves.toBeUndefined();
    const sent = seen.at(-1) as Request;
    expect(sent.url).toBe(`${baseUrl}/pages%2F42/leave`);
    expect(await sent.json()).toEqual({ clientId: 'tab-b' });
    const refreshed = heldOf(await alice.acquire(PAGE, { clientId: 'tab-a', token: held.token }));
    expect(refreshed).not.toHaveProperty('waiters');
  });

  it('leaves on pagehide with a text/plain beacon, which the real handler accepts', async () => {
    const { alice, held } = await aliceHoldsBobWaits();
    const { sendBeacon, delivered } = beaconAs('bob');
    const bob = adapterFor('bob', sendBeacon);
    await line(bob).leave(PAGE, 'tab-b', { keepalive: true });
    expect(sendBeacon).toHaveBeenCalledTimes(1);
    const [url, data] = sendBeacon.mock.calls[0] as [string, Blob];
    expect(url).toBe(`${baseUrl}/pages%2F42/leave`);
    expect(data.type).toBe('text/plain');
    expect(JSON.parse(await data.text())).toEqual({ clientId: 'tab-b' });
    const [answer] = (await Promise.all(delivered)) as Response[];
    expect(answer?.status).toBe(204);
    const refreshed = heldOf(await alice.acquire(PAGE, { clientId: 'tab-a', token: held.token }));
    expect(refreshed).not.toHaveProperty('waiters');
  });

  it('falls back to a keepalive fetch when there is no beacon', async () => {
    const { alice, held } = await aliceHoldsBobWaits();
    const bob = createHttpLockAdapter({
      baseUrl,
      sendBeacon: false,
      // The keepalive request carries no custom headers; the cookie stands in for the browser's.
      fetch: (input, init) => {
        const headers = new Headers(init.headers);
        headers.set('Cookie', 'session=bob');
        return fetch(input, { ...init, headers });
      },
    });
    await line(bob).leave(PAGE, 'tab-b', { keepalive: true });
    await vi.waitFor(async () => {
      const refreshed = heldOf(await alice.acquire(PAGE, { clientId: 'tab-a', token: held.token }));
      expect(refreshed).not.toHaveProperty('waiters');
    });
    const sent = seen.find((request) => request.url.endsWith('/leave')) as Request;
    expect(sent.keepalive).toBe(true);
    expect(sent.headers.get('Content-Type')).toBe('text/plain;charset=UTF-8');
  });
});

describe('createHttpLockAdapter: release with a reason', () => {
  it('sends reason "idle", and the server passes the page to the first waiter', async () => {
    const events: string[] = [];
    lockServer = createMemoryLockServer({ onEvent: (event) => events.push(event.type) });
    network.resetHandlers(
      ...createLockHandlers({
        baseUrl,
        server: lockServer,
        user: sessionUser,
      }),
    );
    const { alice, held } = await aliceHoldsBobWaits();
    expect(await alice.release(PAGE, held.token, { reason: 'idle' })).toBe('released');
    expect(await (seen.at(-1) as Request).json()).toEqual({ token: held.token, reason: 'idle' });
    expect(events.at(-1)).toBe('idle-released');
    const status = await adapterFor('carol').status(PAGE);
    expect(status).toMatchObject({ status: 'locked', lock: { holder: bobUser } });
  });

  it('sends the reason with the pagehide beacon too', async () => {
    const { held } = await aliceHoldsBobWaits();
    const { sendBeacon, delivered } = beaconAs('alice');
    const alice = adapterFor('alice', sendBeacon);
    expect(await alice.release(PAGE, held.token, { reason: 'idle', keepalive: true })).toBe(
      'released',
    );
    const [, data] = sendBeacon.mock.calls[0] as [string, Blob];
    expect(JSON.parse(await data.text())).toEqual({ token: held.token, reason: 'idle' });
    const [answer] = (await Promise.all(delivered)) as Response[];
    expect(answer?.status).toBe(204);
  });
});
