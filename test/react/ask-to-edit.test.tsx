import { act, renderHook, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { PageLockOptions } from '../../src/client/lock-options';
import type { LockAdapter } from '../../src/core/adapter';
import type { LockUser, Waiter } from '../../src/protocol/protocol';
import { usePageLock } from '../../src/react/use-page-lock';
import { alice, bob, carol, lockWrapper, type SeenRequest, setupLockNetwork } from './lock-harness';

// Ask to edit through the real thing: the HTTP adapter, real fetch, MSW and the memory server's
// service and store. Alice holds the page; Bob (and Carol) ask, wait in line, and get it.

const network = setupLockNetwork();
const quick = { pollInterval: 100 };
const slow = { pollInterval: 60_000 };

function tab(
  user: LockUser,
  options: PageLockOptions = quick,
  adapter: LockAdapter = network.adapterFor(user),
) {
  return renderHook(() => ({ ...usePageLock('page:1', options) }), {
    wrapper: lockWrapper({
      adapter,
      clientId: `${user.id}-tab`,
      pollInterval: options.pollInterval,
    }),
  });
}
type Tab = ReturnType<typeof tab>;

const sent = (user: string, kind: SeenRequest['kind']) =>
  network.requests.filter((request) => request.user === user && request.kind === kind);

async function holding(user: LockUser, options: PageLockOptions = quick): Promise<Tab> {
  const holder = tab(user, options);
  await waitFor(() => expect(holder.result.current.status).toBe('held'));
  return holder;
}

async function inLine(
  user: LockUser,
  place: number,
  options: PageLockOptions = quick,
  adapter?: LockAdapter,
): Promise<Tab> {
  const waiter = tab(user, options, adapter);
  await waitFor(() => expect(waiter.result.current.canAsk).toBe(true));
  act(() => waiter.result.current.ask());
  await waitFor(() => expect(waiter.result.current).toMatchObject({ askState: 'pending', place }));
  return waiter;
}

/** Runs an action that settles once done, inside act. */
async function settled(action: () => Promise<void>): Promise<void> {
  await act(async () => {
    await action();
  });
}

describe('ask to edit', () => {
  it('lets a blocked tab ask with a note, wait in line, and get the page handed over', async () => {
    const onLost = vi.fn();
    let draftSaved = false;
    const onHandOver = vi.fn(async (_state: unknown, _to: Waiter) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      draftSaved = true;
    });
    const onAcquired = vi.fn();
    const holder = await holding(alice, { ...quick, onLost, onHandOver });
    const asker = tab(bob, { ...quick, onAcquired });
    await waitFor(() => expect(asker.result.current.status).toBe('locked'));
    expect(asker.result.current).toMatchObject({ canAsk: true, askState: null, place: null });
    expect(holder.result.current.canAsk).toBe(false);

    act(() => asker.result.current.ask('  Can I fix a typo?  '));
    expect(asker.result.current).toMatchObject({
      status: 'locked',
      askState: 'sending',
      canAsk: false,
    });
    await waitFor(() =>
      expect(asker.result.current).toMatchObject({ askState: 'pending', place: 1 }),
    );
    expect(sent('bob', 'ask')[0]?.body).toMatchObject({
      clientId: 'bob-tab',
      message: 'Can I fix a typo?',
    });
    // Bob keeps his place by polling with `renew`, not by looking.
    const looksBefore = sent('bob', 'status').length;
    await waitFor(() => expect(sent('bob', 'renew').length).toBeGreaterThan(1));
    expect(sent('bob', 'status').length).toBe(looksBefore);

    // Alice's refreshes show the request.
    await waitFor(() => expect(holder.result.current.requests).toHaveLength(1));
    expect(holder.result.current.requests[0]).toMatchObject({
      user: bob,
      message: 'Can I fix a typo?',
      request: 'pending',
    });

    await settled(() => holder.result.current.handOver());
    expect(onHandOver).toHaveBeenCalledTimes(1);
    expect(onHandOver.mock.calls[0]?.[1]).toMatchObject({ user: bob });
    expect(draftSaved).toBe(true);
    expect(sent('alice', 'answer').map((request) => request.body?.answer)).toEqual(['hand-over']);
    expect(holder.result.current).toMatchObject({
      status: 'lost',
      reason: 'handed-over',
      holder: bob,
      token: null,
      requests: [],
    });
    expect(onLost).not.toHaveBeenCalled();

    // Bob's next renew is answered held: the page is his.
    await waitFor(() => expect(asker.result.current.status).toBe('held'));
    expect(asker.result.current).toMatchObject({ holder: bob, place: null, askState: null });
    expect(onAcquired).toHaveBeenCalledTimes(1);
    // He holds a lease like any other: he refreshes it.
    await waitFor(() => expect(sent('bob', 'refresh').length).toBeGreaterThan(0));
    expect(asker.result.current.status).toBe('held');
    expect(holder.result.current.status).toBe('lost'); // and Alice's old token stays dead
  });

  it('keeps the place after "Keep editing", and leaves the line on leaveQueue()', async () => {
    const holder = await holding(alice);
    const asker = await inLine(bob, 1);
    await waitFor(() => expect(holder.result.current.requests).toHaveLength(1));

    await settled(() => holder.result.current.decline());
    expect(holder.result.current).toMatchObject({ status: 'held', error: null });
    expect(holder.result.current.requests[0]).toMatchObject({ user: bob, request: 'declined' });
    await waitFor(() => expect(asker.result.current.askState).toBe('declined'));
    expect(asker.result.current).toMatchObject({ status: 'locked', place: 1 });

    act(() => asker.result.current.leaveQueue());
    expect(asker.result.current).toMatchObject({ status: 'locked', askState: null, canAsk: true });
    await waitFor(() => expect(sent('bob', 'leave')).toHaveLength(1));
    await waitFor(() => expect(holder.result.current.requests).toHaveLength(0));
  });

  it('gives a freed page to the first in line, and moves the next one up', async () => {
    const holder = await holding(alice);
    const bobs = await inLine(bob, 1);
    const carols = await inLine(carol, 2);
    await waitFor(() => expect(holder.result.current.requests).toHaveLength(2));
    expect(holder.result.current.requests.map((waiter) => waiter.user.id)).toEqual([
      'bob',
      'carol',
    ]);

    await settled(() => holder.result.current.release());
    await waitFor(() => expect(bobs.result.current.status).toBe('held'));
    await waitFor(() => expect(carols.result.current.place).toBe(1));
    expect(carols.result.current).toMatchObject({ status: 'locked', holder: bob });
    // Bob's refreshes show Carol waiting.
    await waitFor(() => expect(bobs.result.current.requests).toHaveLength(1));
    expect(bobs.result.current.requests[0]?.user).toEqual(carol);
  });

  it('hands over to the waiter named, not the first', async () => {
    const holder = await holding(alice);
    const bobs = await inLine(bob, 1);
    const carols = await inLine(carol, 2);
    await waitFor(() => expect(holder.result.current.requests).toHaveLength(2));
    const carolsPlace = holder.result.current.requests[1]?.id;
    await settled(() => holder.result.current.handOver(carolsPlace));
    expect(holder.result.current).toMatchObject({ reason: 'handed-over', holder: carol });
    await waitFor(() => expect(carols.result.current.status).toBe('held'));
    expect(bobs.result.current).toMatchObject({ status: 'locked', place: 1 });
  });

  it('hands nothing over when onHandOver throws: still held, with the error', async () => {
    const reportError = vi.fn();
    vi.stubGlobal('reportError', reportError);
    try {
      const failure = new Error('the draft could not be saved');
      const holder = await holding(alice, {
        ...quick,
        onHandOver: async () => {
          throw failure;
        },
      });
      const asker = await inLine(bob, 1);
      await waitFor(() => expect(holder.result.current.requests).toHaveLength(1));
      await settled(() => holder.result.current.handOver());
      expect(holder.result.current).toMatchObject({ status: 'held', error: failure });
      expect(sent('alice', 'answer')).toHaveLength(0);
      expect(asker.result.current.status).toBe('locked');
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('acquires at once when the page turned out free (409 not-locked)', async () => {
    // Alice's tab is in another browser: nothing tells Bob's tab she left but a look.
    const alices = network.adapterFor(alice);
    const held = await alices.acquire('page:1', { clientId: 'alice-elsewhere' });
    if (held.status !== 'held') throw new Error('Alice should hold it');
    const asker = tab(bob, slow); // looks once every 10 s: still shows Alice after she left
    await waitFor(() => expect(asker.result.current.canAsk).toBe(true));
    await alices.release('page:1', held.token);
    act(() => asker.result.current.ask());
    await waitFor(() => expect(asker.result.current.status).toBe('held'));
    expect(sent('bob', 'ask')).toHaveLength(1);
    expect(asker.result.current.error).toBeNull();
  });

  it('leaves the line when the tab closes', async () => {
    await holding(alice);
    const asker = await inLine(bob, 1);
    asker.unmount();
    await waitFor(() => expect(sent('bob', 'leave')).toHaveLength(1));
    const lock = (await network.server.store.get('page:1', { now: network.server.now() })) as {
      queue?: unknown[];
    } | null;
    expect(lock?.queue ?? []).toHaveLength(0);
  });

  it('leaves the line by beacon when the page goes away', async () => {
    await holding(alice);
    await inLine(bob, 1);
    act(() => {
      window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
    });
    // The beacon carries no headers: its client id alone names the place.
    await waitFor(() => expect(network.count('leave')).toBe(1));
    const leave = network.requests.find((request) => request.kind === 'leave');
    await waitFor(() => expect(leave?.body).toEqual({ clientId: 'bob-tab' }));
  });

  it('does not re-render a waiter that shows status and holder on each renew', async () => {
    await holding(alice);
    let renders = 0;
    const waiter = renderHook(
      () => {
        renders++;
        const { status, holder, ask } = usePageLock('page:1', quick);
        return { status, holder, ask };
      },
      { wrapper: lockWrapper({ adapter: network.adapterFor(bob), clientId: 'bob-tab' }) },
    );
    await waitFor(() => expect(waiter.result.current.status).toBe('locked'));
    act(() => waiter.result.current.ask());
    await waitFor(() => expect(sent('bob', 'renew').length).toBeGreaterThan(0));
    const before = renders;
    const renewsBefore = sent('bob', 'renew').length;
    await waitFor(() => expect(sent('bob', 'renew').length).toBeGreaterThan(renewsBefore + 2));
    expect(renders).toBe(before);
    expect(waiter.result.current).toMatchObject({ status: 'locked', holder: alice });
  });

  it('offers no asking with an adapter that cannot ask', async () => {
    await holding(alice);
    const { ask: _ask, answer: _answer, leave: _leave, ...plain } = network.adapterFor(bob);
    const asker = tab(bob, quick, plain);
    await waitFor(() => expect(asker.result.current.status).toBe('locked'));
    expect(asker.result.current.canAsk).toBe(false);
    act(() => asker.result.current.ask());
    expect(asker.result.current.askState).toBeNull();
    expect(sent('bob', 'ask')).toHaveLength(0);
  });
});

describe('ask to edit, live', () => {
  const live = (user: LockUser) => network.adapterFor(user, { live: true });
  const streamUp = async (user: string) => {
    await waitFor(() => expect(sent(user, 'events').length).toBeGreaterThan(0));
    await new Promise((resolve) => setTimeout(resolve, 100));
  };

  it('shows the holder a request at once, and gives the waiter the page at once', async () => {
    const holder = tab(alice, slow, live(alice));
    await waitFor(() => expect(holder.result.current.status).toBe('held'));
    await streamUp('alice');
    const asker = tab(bob, slow, live(bob));
    await waitFor(() => expect(asker.result.current.canAsk).toBe(true));
    await streamUp('bob');

    const askedAt = Date.now();
    act(() => asker.result.current.ask('Please'));
    // A poll would take 10 s (a third of the TTL): the push made Alice refresh at once.
    await waitFor(() => expect(holder.result.current.requests).toHaveLength(1), { timeout: 1_000 });
    expect(Date.now() - askedAt).toBeLessThan(1_000);

    const handedAt = Date.now();
    await settled(() => holder.result.current.handOver());
    // The push made Bob ask again at once, answered held.
    await waitFor(() => expect(asker.result.current.status).toBe('held'), { timeout: 1_000 });
    expect(Date.now() - handedAt).toBeLessThan(1_000);
  });
});
