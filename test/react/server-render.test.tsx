// @vitest-environment node
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { LockAdapter } from '../../src/core/adapter';
import { createMemoryLockAdapter } from '../../src/memory/memory-adapter';
import { createMemoryLockServer } from '../../src/memory/memory-server';
import { PageLockProvider } from '../../src/react/page-lock-provider';
import { useLockStatus } from '../../src/react/use-lock-status';
import { usePageLock } from '../../src/react/use-page-lock';

function LockBadge() {
  const { status, holder } = usePageLock();
  const list = useLockStatus(['page:1', 'page:2']);
  return (
    <output>
      {status} {holder?.name ?? 'nobody'} {list['page:2']?.status}
    </output>
  );
}

describe('server rendering', () => {
  it('renders `idle` and sends nothing, the lock held by someone or not', async () => {
    const server = createMemoryLockServer();
    const bob = createMemoryLockAdapter({ user: { id: 'bob', name: 'Bob' }, server });
    await bob.acquire('page:1', { clientId: 'bob-tab' });
    const calls: string[] = [];
    const alice = createMemoryLockAdapter({ user: { id: 'alice', name: 'Alice' }, server });
    const spied = Object.fromEntries(
      Object.entries(alice).map(([name, method]) => [
        name,
        (...args: unknown[]) => {
          calls.push(name);
          return (method as (...a: unknown[]) => unknown)(...args);
        },
      ]),
    ) as unknown as LockAdapter;

    const html = renderToString(
      <QueryClientProvider client={new QueryClient()}>
        <PageLockProvider adapter={spied} resourceId="page:1">
          <LockBadge />
        </PageLockProvider>
      </QueryClientProvider>,
    );
    expect(typeof window).toBe('undefined');
    expect(html.replaceAll('<!-- -->', '')).toContain('<output>idle nobody unknown</output>');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toEqual([]);
  });
});
