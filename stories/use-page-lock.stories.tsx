import type { Meta, StoryObj } from '@storybook/react-vite';
import type { ReactNode } from 'react';
import { expect, userEvent, waitFor, within } from 'storybook/test';
import { PageLockProvider, type PageLockProviderProps } from '../src/react/page-lock-provider';
import { usePageLock } from '../src/react/use-page-lock';
import { type LockWorld, lockWorldLoader, STORY_POLL_INTERVAL } from './support/lock-world';
import { alice, me } from './support/users';

/** Every field `usePageLock()` returns, and buttons for its four actions. */
function LockInspector(): ReactNode {
  const lock = usePageLock();
  const time = (value: number | null) =>
    value === null ? '—' : new Date(value - lock.serverTimeOffset).toLocaleTimeString('en-GB');
  const fields: Array<[string, string]> = [
    ['status', lock.status],
    ['holder', lock.holder?.name ?? '—'],
    ['since', time(lock.since)],
    ['expiresAt', time(lock.expiresAt)],
    ['isOwner', String(lock.isOwner)],
    ['isSelf', String(lock.isSelf)],
    ['canTakeOver', String(lock.canTakeOver)],
    ['reason', lock.reason ?? '—'],
    ['token', lock.token ? 'present (send it with saves)' : '—'],
    ['fence', lock.fence === null ? '—' : String(lock.fence)],
    ['error', lock.error?.message ?? '—'],
  ];
  return (
    <section className="story-page" aria-label="usePageLock()">
      <dl className="story-fields">
        {fields.map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd data-field={name}>{value}</dd>
          </div>
        ))}
      </dl>
      <div className="story-toolbar">
        <button type="button" onClick={lock.acquire}>
          acquire()
        </button>
        <button type="button" onClick={() => void lock.release()}>
          release()
        </button>
        <button type="button" onClick={() => void lock.takeOver()}>
          takeOver()
        </button>
        <button type="button" onClick={lock.retry}>
          retry()
        </button>
      </div>
    </section>
  );
}

const meta = {
  title: 'Hooks/usePageLock',
  component: PageLockProvider,
  parameters: {
    docs: {
      description: {
        component: `\`<PageLockProvider adapter resourceId>\` runs the lock of one resource for its
children; \`usePageLock()\` reads it (or \`usePageLock(id, options)\` runs another). The table
below lists the provider's props; the story shows every field the hook returns. The lock is
acquired over HTTP from an in-memory lock server answered by MSW.`,
      },
    },
  },
  // Every story brings its own adapter (from its lock world), so the arg is only a placeholder.
  args: { adapter: undefined as never },
  argTypes: {
    adapter: { control: false },
    queryClient: { control: false },
    children: { control: false },
  },
  render: (args, { loaded }) => {
    const world = loaded.world as LockWorld;
    const provider: PageLockProviderProps = {
      pollInterval: STORY_POLL_INTERVAL,
      ...args,
      adapter: world.adapter,
      resourceId: world.resourceId,
      clientId: world.clientId,
      onAvailable: world.callbacks.onAvailable,
      onLost: world.callbacks.onLost,
      onAcquired: world.callbacks.onAcquired,
    };
    return (
      <PageLockProvider {...provider}>
        <LockInspector />
      </PageLockProvider>
    );
  },
} satisfies Meta<typeof PageLockProvider>;

export default meta;
type Story = StoryObj<typeof meta>;

const field = (canvasElement: HTMLElement, name: string) =>
  canvasElement.querySelector(`[data-field="${name}"]`) as HTMLElement;

/** The default, `acquire: "mount"`: the page is locked as it opens. */
export const HeldOnMount: Story = {
  loaders: [lockWorldLoader()],
  async play({ canvasElement }) {
    await waitFor(() => expect(field(canvasElement, 'status')).toHaveTextContent('held'), {
      timeout: 5_000,
    });
    await expect(field(canvasElement, 'holder')).toHaveTextContent(me.name);
    await expect(field(canvasElement, 'isOwner')).toHaveTextContent('true');
    await expect(field(canvasElement, 'token')).toHaveTextContent('present');
    await expect(field(canvasElement, 'fence')).toHaveTextContent(/^\d+$/);
  },
};

/** `acquire: "manual"`: `free` until `acquire()` (on the first edit, say); `release()` gives it back. */
export const ManualAcquire: Story = {
  args: { acquire: 'manual' },
  loaders: [lockWorldLoader()],
  async play({ canvasElement, loaded }) {
    const world = loaded.world as LockWorld;
    const canvas = within(canvasElement);
    await waitFor(() => expect(field(canvasElement, 'status')).toHaveTextContent('free'), {
      timeout: 5_000,
    });
    await expect(await world.server.service.list()).toEqual([]);

    await userEvent.click(canvas.getByRole('button', { name: 'acquire()' }));
    await waitFor(() => expect(field(canvasElement, 'status')).toHaveTextContent('held'));
    await expect((await world.server.service.list()).map((lock) => lock.holder)).toEqual([me]);

    await userEvent.click(canvas.getByRole('button', { name: 'release()' }));
    await expect(field(canvasElement, 'status')).toHaveTextContent('free');
    // The tab is `free` at once; the release reaches the server a moment later.
    await waitFor(async () => expect(await world.server.service.list()).toEqual([]));
  },
};

/** Another user holds it: `locked`, with the holder, and `canTakeOver` as the server says. */
export const LockedByAnotherUser: Story = {
  loaders: [lockWorldLoader({ setup: (world) => world.tabOf(alice).acquire(world.resourceId) })],
  async play({ canvasElement }) {
    await waitFor(() => expect(field(canvasElement, 'status')).toHaveTextContent('locked'), {
      timeout: 5_000,
    });
    await expect(field(canvasElement, 'holder')).toHaveTextContent(alice.name);
    await expect(field(canvasElement, 'isOwner')).toHaveTextContent('false');
    await expect(field(canvasElement, 'canTakeOver')).toHaveTextContent('false');
    await expect(field(canvasElement, 'token')).toHaveTextContent('—');
  },
};
