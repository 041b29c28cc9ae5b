import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import { LockOverlay } from '../../src/react/overlay';
import { PageLockProvider } from '../../src/react/page-lock-provider';
import { usePageLock } from '../../src/react/use-page-lock';
import { alice, createTestQueryClient, setupLockNetwork } from './lock-harness';

const network = setupLockNetwork();

function Status({ tab }: { tab: string }): ReactNode {
  const { status, reason, isSelf } = usePageLock();
  return (
    <output>
      {tab}: {status}
      {reason ? ` (${reason})` : ''}
      {isSelf ? ' self' : ''}
    </output>
  );
}

/** One of Alice's tabs; it polls only every 10 s, so it learns of a takeover some other way. */
function AliceTab({ clientId, name }: { clientId: string; name: string }): ReactNode {
  return (
    <section aria-label={name}>
      <PageLockProvider
        adapter={network.adapterFor(alice)}
        resourceId="page:1"
        clientId={clientId}
        queryClient={createTestQueryClient()}
        user={alice}
        pollInterval={10_000}
      >
        <Status tab={name} />
        <LockOverlay>
          <textarea aria-label={`${name} body`} defaultValue="Opening hours" />
        </LockOverlay>
      </PageLockProvider>
    </section>
  );
}

describe('"Edit here instead", seen from the old tab', () => {
  it('says "You opened this page in another tab", not that Alice took it over, and keeps the text', async () => {
    render(<AliceTab clientId="old-tab" name="Old tab" />);
    await screen.findByText('Old tab: held');
    const oldBody = screen.getByLabelText('Old tab body') as HTMLTextAreaElement;
    await userEvent.type(oldBody, ' Closed on Sundays.');

    render(<AliceTab clientId="new-tab" name="New tab" />);
    await screen.findByText('New tab: locked self');
    const newTab = screen.getByRole('region', { name: 'New tab' });
    await userEvent.click(within(newTab).getByRole('button', { name: 'Edit here instead' }));
    await screen.findByText('New tab: held');

    // The new tab's BroadcastChannel message makes the old one refresh now, not in 10 s; the
    // server's 409 says the new holder is this same user (`isSelf`).
    await screen.findByText('Old tab: lost (taken-over) self', undefined, { timeout: 1_000 });
    const oldTab = screen.getByRole('region', { name: 'Old tab' });
    const dialog = within(oldTab).getByRole('region', {
      name: 'You opened this page in another tab.',
    });
    expect(dialog.textContent).not.toMatch(/took over/);
    expect(oldBody.value).toBe('Opening hours Closed on Sundays.');
    await waitFor(() =>
      expect(within(oldTab).queryByRole('button', { name: 'Reload' })).toBeTruthy(),
    );
  });
});
