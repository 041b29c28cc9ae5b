import type { Meta, StoryObj } from '@storybook/react-vite';
import { type ReactNode, useState } from 'react';
import { expect, fn, userEvent, waitFor, within } from 'storybook/test';
import type { LockAdapter } from '../src/core/adapter';
import { createMemoryLockAdapter } from '../src/memory/memory-adapter';
import { createMemoryLockServer, type MemoryLockServer } from '../src/memory/memory-server';
import { editorBody, expectEditorUsable, statusOf } from './support/checks';
import { EditorPane } from './support/editor-pane';
import { alice, bob } from './support/users';

/** Two people, one memory lock server: Bob may take the page over, Alice may not. */
interface TwoEditorsWorld {
  server: MemoryLockServer;
  resourceId: string;
  adapters: { alice: LockAdapter; bob: LockAdapter };
  /** Runs when Bob's blocked tab sees the page free. */
  onBobAvailable: ReturnType<typeof fn>;
}

async function twoEditorsLoader(context: { id: string }): Promise<{ world: TwoEditorsWorld }> {
  const server = createMemoryLockServer({ canTakeOver: (user) => user.id === bob.id });
  return {
    world: {
      server,
      resourceId: `page:${context.id}`,
      adapters: {
        alice: createMemoryLockAdapter({ user: alice, server }),
        bob: createMemoryLockAdapter({ user: bob, server }),
      },
      onBobAvailable: fn().mockName('bob.onAvailable'),
    },
  };
}

/** Alice opens the page first; Bob opens it in his tab once she is editing. */
function TwoEditors(props: { world: TwoEditorsWorld }): ReactNode {
  const { world } = props;
  const [aliceIsIn, setAliceIsIn] = useState(false);
  const [bobIsIn, setBobIsIn] = useState(false);
  return (
    <div className="story-columns">
      <EditorPane
        user={alice}
        adapter={world.adapters.alice}
        resourceId={world.resourceId}
        onAcquired={() => setAliceIsIn(true)}
      />
      {bobIsIn ? (
        <EditorPane
          user={bob}
          adapter={world.adapters.bob}
          resourceId={world.resourceId}
          onAvailable={world.onBobAvailable}
        />
      ) : (
        <div>
          <button type="button" disabled={!aliceIsIn} onClick={() => setBobIsIn(true)}>
            Open the page as Bob
          </button>
        </div>
      )}
    </div>
  );
}

const meta = {
  title: 'Examples/Two editors',
  loaders: [twoEditorsLoader],
  parameters: {
    docs: {
      description: {
        component: `Alice's and Bob's tabs side by side, each with its own \`PageLockProvider\`,
adapter and \`clientId\`, sharing one \`createMemoryLockServer\`. Alice opens the page first, so
Bob is blocked. When Alice releases the page or closes her tab, Bob's tab sees it free; its
\`onAvailable\` acquires at once (the default would reload the page, which then acquires). The server lets Bob take the page over; Alice then
sees that she lost it, with her text still on screen.`,
      },
    },
  },
  render: (_args, { loaded }) => <TwoEditors world={loaded.world as TwoEditorsWorld} />,
} satisfies Meta;

export default meta;
type Story = StoryObj<typeof meta>;

function panes(canvasElement: HTMLElement) {
  const canvas = within(canvasElement);
  return {
    alice: () => canvas.getByRole('region', { name: "Alice's tab" }),
    bob: () => canvas.getByRole('region', { name: "Bob's tab" }),
  };
}

/** Alice is editing (and types `aliceTypes`), then Bob opens the page and is blocked by her. */
async function aliceEditsBobWaits(canvasElement: HTMLElement, aliceTypes = '') {
  const pane = panes(canvasElement);
  await statusOf(pane.alice(), 'held');
  if (aliceTypes) await userEvent.type(editorBody(pane.alice()), aliceTypes);
  const openAsBob = within(canvasElement).getByRole('button', { name: 'Open the page as Bob' });
  await waitFor(() => expect(openAsBob).toBeEnabled());
  await userEvent.click(openAsBob);
  await statusOf(pane.bob(), 'locked');
  const bobsPanel = await within(pane.bob()).findByRole('region', {
    name: /^Alice Martin has been editing this page since/,
  });
  await expect(bobsPanel).not.toHaveAttribute('aria-modal');
  await expect(editorBody(pane.bob()).closest('[inert]')).not.toBeNull();
  await expect(pane.alice().querySelector('.page-lock-overlay__panel')).toBeNull();
  return pane;
}

/** Bob's tab gets the page: the overlay over his editor is gone and it is no longer inert. */
async function bobHasThePage(pane: ReturnType<typeof panes>) {
  await statusOf(pane.bob(), 'held');
  await expect(pane.bob().querySelector('.page-lock-overlay__panel')).toBeNull();
  await expect(editorBody(pane.bob()).closest('[inert]')).toBeNull();
}

/** Alice presses Release: Bob's blocked tab sees the page free and gets it. */
export const HandOverOnRelease: Story = {
  async play({ canvasElement, loaded }) {
    const world = loaded.world as TwoEditorsWorld;
    const pane = await aliceEditsBobWaits(canvasElement);
    await userEvent.click(within(pane.alice()).getByRole('button', { name: 'Release' }));
    await bobHasThePage(pane);
    await expect(world.onBobAvailable).toHaveBeenCalledTimes(1);
    const [lock] = await world.server.service.list();
    await expect(lock?.holder).toEqual(bob);
    // Alice stayed on the page: her tab now sees Bob editing and blocks her.
    await statusOf(pane.alice(), 'locked');
    await within(pane.alice()).findByRole('region', {
      name: /^Bob Keller has been editing this page since/,
    });
  },
};

/** Alice closes her tab: the lock is given back on the way out, and Bob gets the page. */
export const HandOverOnClose: Story = {
  async play({ canvasElement }) {
    const pane = await aliceEditsBobWaits(canvasElement);
    await userEvent.click(within(pane.alice()).getByRole('button', { name: 'Close tab' }));
    await expect(within(pane.alice()).getByText('Alice closed the tab.')).toBeVisible();
    await bobHasThePage(pane);
    await expectEditorUsable(pane.bob());
  },
};

/** Bob is allowed to take over: he does, and Alice's tab shows she lost the page, text intact. */
export const BobTakesOver: Story = {
  async play({ canvasElement, loaded }) {
    const world = loaded.world as TwoEditorsWorld;
    const pane = await aliceEditsBobWaits(canvasElement, ' Draft by Alice.');
    await userEvent.click(within(pane.bob()).getByRole('button', { name: 'Take over' }));
    await bobHasThePage(pane);
    await expectEditorUsable(pane.bob());

    await statusOf(pane.alice(), 'lost');
    await within(pane.alice()).findByRole('region', {
      name: 'Bob Keller took over this page, so you can no longer edit it.',
    });
    await expect(editorBody(pane.alice())).toHaveAttribute('readonly');
    await expect(editorBody(pane.alice()).value).toMatch(/ Draft by Alice\.$/);
    await expect(world.onBobAvailable).not.toHaveBeenCalled();
  },
};
