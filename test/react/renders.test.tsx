import { render, screen, waitFor } from '@testing-library/react';
import { delay } from 'msw';
import { describe, expect, it } from 'vitest';
import { usePageLock } from '../../src/react/use-page-lock';
import { alice, lockWrapper, setupLockNetwork } from './lock-harness';

const network = setupLockNetwork();

const renders = { badge: 0, editor: 0, full: 0 };

/** Reads only `status` and `holder`, as a lock badge would. */
function Badge() {
  const { status, holder } = usePageLock('page:1', { pollInterval: 30 });
  renders.badge++;
  return (
    <output>
      {status} {holder?.name}
    </output>
  );
}

/** Reads everything, `expiresAt` included. */
function Countdown() {
  const lock = usePageLock('page:1', { pollInterval: 30 });
  renders.full++;
  return <time>{lock.expiresAt}</time>;
}

function Editor() {
  renders.editor++;
  return <textarea aria-label="body" />;
}

describe('renders', () => {
  it('does not re-render a component that reads only status and holder when a refresh moves expiresAt', async () => {
    renders.badge = 0;
    renders.full = 0;
    render(
      <>
        <Badge />
        <Countdown />
      </>,
      { wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' }) },
    );
    await screen.findByText('held Alice');
    const badgeRenders = renders.badge;
    const fullRenders = renders.full;
    await waitFor(() => expect(network.count('refresh')).toBeGreaterThanOrEqual(4));
    await delay(40);
    expect(renders.badge).toBe(badgeRenders);
    // The one that reads expiresAt does re-render: the refreshes really moved it.
    expect(renders.full).toBeGreaterThan(fullRenders);
  });

  it('does not re-render the editor under the provider on polls or status changes', async () => {
    renders.editor = 0;
    renders.badge = 0;
    const Wrapper = lockWrapper({
      adapter: network.adapterFor(alice),
      clientId: 'alice-tab',
      resourceId: 'page:1',
      pollInterval: 30,
      onAcquired: () => {},
    });
    render(
      <Wrapper>
        <Editor />
        <Badge />
      </Wrapper>,
    );
    await screen.findByText('held Alice');
    await waitFor(() => expect(network.count('refresh')).toBeGreaterThanOrEqual(3));
    expect(renders.editor).toBe(1);
  });
});
