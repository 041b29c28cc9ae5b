import { render, screen, waitFor } from '@testing-library/react';
import { delay } from 'msw';
import { describe, expect, it } from 'vitest';
import { createMemoryLockServer } from '../../src/memory/memory-server';
import { createLockHandlers } from '../../src/msw/lock-handlers';
import type { LockUser } from '../../src/protocol/protocol';
import { useLockStatus } from '../../src/react/use-lock-status';
import { usePageLock } from '../../src/react/use-page-lock';
import { alice, baseUrl, bob, lockWrapper, setupLockNetwork } from './lock-harness';

const network = setupLockNetwork();
const pages = ['page:1', 'page:2', 'page:3', 'page:4', 'page:5'];

function Row({ id }: { id: string }) {
  const { status, holder, isSelf } = useLockStatus(id);
  return (
    <li>
      {id}: {status}
      {holder ? ` by ${holder.name}` : ''}
      {isSelf ? ' (you)' : ''}
    </li>
  );
}

function Summary() {
  const all = useLockStatus(pages);
  const locked = Object.values(all).filter((view) => view.status === 'locked').length;
  return <p>{locked} locked</p>;
}

function PageList() {
  return (
    <>
      <ul>
        {pages.map((id) => (
          <Row key={id} id={id} />
        ))}
      </ul>
      <Summary />
    </>
  );
}

function Editor({ id }: { id: string }) {
  usePageLock(id);
  return null;
}

describe('useLockStatus', () => {
  it('asks about every row of a list in one request, without acquiring anything', async () => {
    await network.adapterFor(alice).acquire('page:2', { clientId: 'alice-tab' });
    await network.adapterFor(bob).acquire('page:4', { clientId: 'bob-other-tab' });
    const before = network.requests.length;
    render(<PageList />, {
      wrapper: lockWrapper({ adapter: network.adapterFor(bob), clientId: 'bob-tab' }),
    });
    expect(screen.getByText('page:1: unknown')).toBeTruthy();
    await screen.findByText('page:2: locked by Alice');
    expect(screen.getByText('page:1: free')).toBeTruthy();
    expect(screen.getByText('page:4: locked by Bob (you)')).toBeTruthy();
    expect(screen.getByText('2 locked')).toBeTruthy();
    const sent = network.requests.slice(before);
    expect(sent.map((request) => request.kind)).toEqual(['batch']);
    expect(sent[0]?.path).toBe('/api/locks');
    expect(new URLSearchParams(sent[0]?.search).getAll('ids')).toEqual(pages);
    expect(await network.server.service.list()).toHaveLength(2);
  });

  it("polls at the provider's interval and shows changes", async () => {
    render(<PageList />, {
      wrapper: lockWrapper({
        adapter: network.adapterFor(bob),
        clientId: 'bob-tab',
        pollInterval: 40,
      }),
    });
    await screen.findByText('page:3: free');
    await network.adapterFor(alice).acquire('page:3', { clientId: 'alice-tab' });
    await screen.findByText('page:3: locked by Alice');
    await delay(100);
    expect(network.count('batch')).toBeGreaterThanOrEqual(3);
    expect(network.count('status')).toBe(0);
  });

  it("shows at once a lock taken or given back in this browser's other tabs", async () => {
    render(<PageList />, {
      wrapper: lockWrapper({ adapter: network.adapterFor(bob), clientId: 'bob-tab' }),
    });
    await screen.findByText('page:3: free');
    const editorTab = render(<Editor id="page:3" />, {
      wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' }),
    });
    // The list polls every 10 s; the other tab's message makes it look at once.
    await screen.findByText('page:3: locked by Alice', undefined, { timeout: 500 });
    editorTab.unmount();
    await screen.findByText('page:3: free', undefined, { timeout: 500 });
  });

  it('says `held` for a resource this very tab holds', async () => {
    await network.adapterFor(bob).acquire('page:5', { clientId: 'bob-tab' });
    render(<Row id="page:5" />, {
      wrapper: lockWrapper({ adapter: network.adapterFor(bob), clientId: 'bob-tab' }),
    });
    await waitFor(() => expect(screen.getByText('page:5: held by Bob (you)')).toBeTruthy());
  });

  it('shows `forbidden` for an id the server does not let this user observe, and the rest as usual', async () => {
    const users: Record<string, LockUser> = { alice, bob };
    const server = createMemoryLockServer({
      authorize: (user, resourceId, action) =>
        !(user.id === 'bob' && resourceId === 'page:3' && action === 'observe'),
    });
    await server.service.acquire('page:2', alice, { clientId: 'alice-tab' });
    await server.service.acquire('page:3', alice, { clientId: 'alice-tab' });
    network.msw.use(
      ...createLockHandlers({
        baseUrl,
        server,
        user: (request) => users[request.headers.get('x-test-user') ?? ''] ?? null,
      }),
    );
    render(<PageList />, {
      wrapper: lockWrapper({ adapter: network.adapterFor(bob), clientId: 'bob-tab' }),
    });
    await screen.findByText('page:3: forbidden');
    expect(screen.getByText('page:2: locked by Alice')).toBeTruthy();
    expect(screen.getByText('page:1: free')).toBeTruthy();
    expect(screen.getByText('1 locked')).toBeTruthy();
  });
});
