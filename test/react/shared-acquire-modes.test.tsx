import { render, screen } from '@testing-library/react';
import { delay } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import type { AcquireMode } from '../../src/client/lock-options';
import { usePageLock } from '../../src/react/use-page-lock';
import { alice, bob, lockWrapper, setupLockNetwork } from './lock-harness';

const network = setupLockNetwork();
/** The app's own: a tab that sees the page free does not reload. */
const onAvailable = vi.fn();

function Lock({ name, acquire }: { name: string; acquire: AcquireMode }) {
  const { status } = usePageLock('page:1', { pollInterval: 50, acquire, onAvailable });
  return (
    <p>
      {name}: {status}
    </p>
  );
}

function Page({ withEditor }: { withEditor: boolean }) {
  return (
    <>
      <Lock name="preview" acquire="manual" />
      {withEditor ? <Lock name="editor" acquire="mount" /> : null}
    </>
  );
}

describe('hooks with different acquire modes on one resource', () => {
  it('acquires when a hook that locks on mount joins a manual one that sits free', async () => {
    const wrapper = lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' });
    const { rerender } = render(<Page withEditor={false} />, { wrapper });
    await screen.findByText('preview: free');
    rerender(<Page withEditor />);
    await screen.findByText('editor: held');
    expect(screen.getByText('preview: held')).toBeTruthy();
    expect(await network.server.service.list()).toHaveLength(1);
  });

  it('does not acquire for a joining hook once someone else was seen holding the page', async () => {
    const bobs = await network.adapterFor(bob).acquire('page:1', { clientId: 'bob-tab' });
    if (bobs.status !== 'held') throw new Error('Bob should get the free page');
    const wrapper = lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' });
    const { rerender } = render(<Page withEditor={false} />, { wrapper });
    await screen.findByText('preview: locked');
    await network.adapterFor(bob).release('page:1', bobs.token);
    await screen.findByText('preview: free');
    rerender(<Page withEditor />);
    await delay(200);
    expect(screen.getByText('editor: free')).toBeTruthy();
    expect(await network.server.service.list()).toEqual([]);
  });
});
