import { QueryClientProvider } from '@tanstack/react-query';
import { render, renderHook, screen, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import type { LockAdapter } from '../../src/core/adapter';
import { PageLockProvider } from '../../src/react/page-lock-provider';
import { useLockStatus } from '../../src/react/use-lock-status';
import { usePageLock } from '../../src/react/use-page-lock';
import { alice, bob, createTestQueryClient, setupLockNetwork } from './lock-harness';

const network = setupLockNetwork();

function Editor({ who }: { who: string }): ReactNode {
  const { status, holder, token, isSelf } = usePageLock('page:1', { pollInterval: 50 });
  return (
    <p data-testid={who} data-token={token ?? ''}>
      {who}: {status}
      {holder ? ` by ${holder.name}` : ''}
      {isSelf ? ' (you)' : ''}
    </p>
  );
}

function Badge({ who }: { who: string }): ReactNode {
  const { status, holder, isSelf } = useLockStatus('page:1');
  return (
    <p>
      {who} list: {status}
      {holder ? ` by ${holder.name}` : ''}
      {isSelf ? ' (you)' : ''}
    </p>
  );
}

/** One signed-in user's corner of the document: its own adapter, the tab's own id. */
function Corner(props: { adapter: LockAdapter; who: string; children: ReactNode }): ReactNode {
  return (
    <PageLockProvider adapter={props.adapter} pollInterval={50}>
      {props.children}
    </PageLockProvider>
  );
}

describe('sessions are shared only by hooks with the same adapter', () => {
  it('keeps two users (two adapters) in one document apart, on one QueryClient and one tab id', async () => {
    const client = createTestQueryClient();
    render(
      <QueryClientProvider client={client}>
        <Corner adapter={network.adapterFor(alice)} who="Alice">
          <Editor who="Alice" />
        </Corner>
      </QueryClientProvider>,
    );
    await screen.findByText('Alice: held by Alice');
    render(
      <QueryClientProvider client={client}>
        <Corner adapter={network.adapterFor(bob)} who="Bob">
          <Editor who="Bob" />
          <Badge who="Bob" />
        </Corner>
        <Corner adapter={network.adapterFor(alice)} who="Alice">
          <Badge who="Alice" />
        </Corner>
      </QueryClientProvider>,
    );
    await screen.findByText('Bob: locked by Alice');
    expect(screen.getByTestId('Bob').dataset.token).toBe('');
    await screen.findByText('Bob list: locked by Alice');
    await screen.findByText('Alice list: held by Alice (you)');
    // Bob's session asked the server as Bob; Alice still holds the page, with her own token.
    expect(network.requests.some((request) => request.user === 'bob')).toBe(true);
    const aliceToken = screen.getByTestId('Alice').dataset.token as string;
    await expect(
      network.server.service.assertHeld('page:1', aliceToken, alice),
    ).resolves.toMatchObject({ holder: alice });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(screen.getByText('Alice: held by Alice')).toBeTruthy();
    expect(screen.getByText('Bob: locked by Alice')).toBeTruthy();
  });

  it('still shares one session for one adapter used by two providers with their own QueryClients', async () => {
    const adapter = network.adapterFor(alice);
    const wrapperWith =
      () =>
      ({ children }: { children: ReactNode }) => (
        <QueryClientProvider client={createTestQueryClient()}>
          <PageLockProvider adapter={adapter} clientId="alice-tab">
            {children}
          </PageLockProvider>
        </QueryClientProvider>
      );
    const first = renderHook(() => usePageLock('page:1'), { wrapper: wrapperWith() });
    await waitFor(() => expect(first.result.current.status).toBe('held'));
    const second = renderHook(() => usePageLock('page:1'), { wrapper: wrapperWith() });
    await waitFor(() => expect(second.result.current.status).toBe('held'));
    expect(second.result.current.token).toBe(first.result.current.token);
    expect(network.count('acquire')).toBe(1);
  });
});
