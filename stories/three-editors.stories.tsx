import type { Meta, StoryObj } from '@storybook/react-vite';
import { type ReactNode, useState } from 'react';
import { expect, userEvent, waitFor, within } from 'storybook/test';
import type { LockAdapter } from '../src/core/adapter';
import { createMemoryLockAdapter } from '../src/memory/memory-adapter';
import { createMemoryLockServer, type MemoryLockServer } from '../src/memory/memory-server';
import { editorBody, expectEditorUsable, statusOf } from './support/checks';
import { EditorPane } from './support/editor-pane';
import { alice, bob, carol } from './support/users';

const HOUR = 3_600_000;

/** Three people, one memory lock server (long leases, so nobody lapses while the story runs). */
interface ThreeEditorsWorld {
  server: MemoryLockServer;
  resourceId: string;
  adapters: { alice: LockAdapter; bob: LockAdapter; carol: LockAdapter };
}

async function threeEditorsLoader(context: { id: string }): Promise<{ world: ThreeEditorsWorld }> {
  const server = createMemoryLockServer({ ttl: HOUR });
  return {
    world: {
      server,
      resourceId: `page:${context.id}`,
      adapters: {
        alice: createMemoryLockAdapter({ user: alice, server }),
        bob: createMemoryLockAdapter({ user: bob, server }),
        carol: createMemoryLockAdapter({ user: carol, server }),
      },
    },
  };
}

/** Alice opens the page first; Bob and Carol open it once she is editing. */
function ThreeEditors(props: { world: ThreeEditorsWorld }): ReactNode {
  const { world } = props;
  const [aliceIsIn, setAliceIsIn] = useState(false);
  const [othersAreIn, setOthersAreIn] = useState(false);
  return (
    <div className="story-columns">
      <EditorPane
        user={alice}
        adapter={world.adapters.alice}
        resourceId={world.resourceId}
        onAcquired={() => setAliceIsIn(true)}
      />
      {othersAreIn ? (
        <>
          <EditorPane user={bob} adapter={world.adapters.bob} resourceId={world.resourceId} />
          <EditorPane user={carol} adapter={world.adapters.carol} resourceId={world.resourceId} />
        </>
      ) : (
        <div>
          <button type="button" disabled={!aliceIsIn} onClick={() => setOthersAreIn(true)}>
            Open the page as Bob and Carol
          </button>
        </div>
      )}
    </div>
  );
}

const meta = {
  title: 'Examples/Three editors',
  loaders: [threeEditorsLoader],
  parameters: {
    docs: {
      description: {
        component: `Alice's, Bob's and Carol's tabs side by side, each with its own
\`PageLockProvider\`, adapter and \`clientId\`, on one \`createMemoryLockServer\`. Alice is editing;
Bob and Carol ask to edit and wait in a fair line, first come first served. Alice is asked beside
her editor, without being blocked; when she hands the page over it goes to the first in line,
and the line moves up.`,
      },
    },
    // Three panels say the same kind of thing in differently named panes (as in two-editors).
    a11y: { config: { rules: [{ id: 'landmark-unique', enabled: false }] } },
  },
  render: (_args, { loaded }) => <ThreeEditors world={loaded.world as ThreeEditorsWorld} />,
} satisfies Meta;

export default meta;
type Story = StoryObj<typeof meta>;

function panes(canvasElement: HTMLElement) {
  const canvas = within(canvasElement);
  return {
    alice: () => canvas.getByRole('region', { name: "Alice's tab" }),
    bob: () => canvas.getByRole('region', { name: "Bob's tab" }),
    carol: () => canvas.getByRole('region', { name: "Carol's tab" }),
  };
}

/** The place and request a waiting pane's panel says. */
async function saysInLine(pane: HTMLElement, ...lines: string[]): Promise<void> {
  await waitFor(
    () => {
      const status = within(pane).getByRole('status');
      for (const line of lines) expect(status).toHaveTextContent(line);
    },
    { timeout: 5_000 },
  );
}

async function askInPane(pane: HTMLElement, note: string): Promise<void> {
  await userEvent.type(
    within(pane).getByRole('textbox', { name: 'Note for Alice Martin (optional)' }),
    note,
  );
  await userEvent.click(within(pane).getByRole('button', { name: 'Ask to edit' }));
}

/**
 * Bob asks, then Carol: Bob is next, Carol 2nd in line, and Alice is asked (with Bob's note)
 * while she keeps typing. She hands over: Bob edits, Alice's text stays on screen read-only, and
 * Carol is next.
 */
export const FairLine: Story = {
  async play({ canvasElement }) {
    const pane = panes(canvasElement);
    await statusOf(pane.alice(), 'held');
    const openOthers = within(canvasElement).getByRole('button', {
      name: 'Open the page as Bob and Carol',
    });
    await waitFor(() => expect(openOthers).toBeEnabled());
    await userEvent.click(openOthers);
    await statusOf(pane.bob(), 'locked');
    await statusOf(pane.carol(), 'locked');

    await askInPane(pane.bob(), 'Can I fix the phone number?');
    await saysInLine(pane.bob(), 'You are next', 'Waiting for Alice Martin to answer');
    await askInPane(pane.carol(), 'After Bob, please');
    await saysInLine(pane.carol(), '2nd in line');

    const prompt = await within(pane.alice()).findByRole(
      'region',
      { name: 'Bob Keller asks to edit this page' },
      { timeout: 5_000 },
    );
    await expect(prompt).toHaveTextContent('“Can I fix the phone number?”');
    await waitFor(
      () => expect(prompt).toHaveTextContent('Bob Keller and Carol Nguyen are waiting'),
      { timeout: 5_000 },
    );
    // Alice is asked, not blocked: her editor takes her typing.
    await expectEditorUsable(pane.alice());

    await userEvent.click(within(prompt).getByRole('button', { name: 'Hand over' }));
    await statusOf(pane.alice(), 'lost');
    await within(pane.alice()).findByRole('region', {
      name: 'You handed this page to Bob Keller.',
    });
    await expect(editorBody(pane.alice())).toHaveAttribute('readonly');
    await expect(editorBody(pane.alice()).value).toMatch(/ Closed on holidays\.$/);

    await statusOf(pane.bob(), 'held');
    await expectEditorUsable(pane.bob());
    await saysInLine(pane.carol(), 'You are next');
    // Carol still waits for the page, now Bob's: his tab says so.
    await within(pane.bob()).findByRole(
      'region',
      { name: /^Carol Nguyen (asks to edit this page|is waiting)$/ },
      { timeout: 5_000 },
    );
  },
};

/** Alice closes her tab: the page passes to the first in line at once, not to whoever is quickest. */
export const PassesOnWhenTheHolderLeaves: Story = {
  async play({ canvasElement }) {
    const pane = panes(canvasElement);
    await statusOf(pane.alice(), 'held');
    await userEvent.click(
      within(canvasElement).getByRole('button', { name: 'Open the page as Bob and Carol' }),
    );
    await statusOf(pane.carol(), 'locked');
    await askInPane(pane.carol(), 'Me first');
    await saysInLine(pane.carol(), 'You are next');
    await statusOf(pane.bob(), 'locked');
    await askInPane(pane.bob(), 'Then me');
    await saysInLine(pane.bob(), '2nd in line');

    await userEvent.click(within(pane.alice()).getByRole('button', { name: 'Close tab' }));
    await statusOf(pane.carol(), 'held');
    await saysInLine(pane.bob(), 'You are next');
    await expect(editorBody(pane.bob()).closest('[inert]')).not.toBeNull();
  },
};
