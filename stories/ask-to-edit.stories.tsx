import type { Meta, StoryObj } from '@storybook/react-vite';
import type { ReactNode } from 'react';
import { expect, fn, userEvent, waitFor, within } from 'storybook/test';
import { LockOverlay, type LockOverlayProps } from '../src/react/overlay';
import { PageLockProvider } from '../src/react/page-lock-provider';
import { usePageLock } from '../src/react/use-page-lock';
import {
  editorBody,
  expectBlockOverEditor,
  expectEditorUsable,
  expectLockStatus,
  expectReadOnlyEditor,
} from './support/checks';
import { germanMessages } from './support/german-messages';
import { AdminHeader, LockScene, LockStatusLine } from './support/lock-scene';
import { type LockWorld, lockWorldLoader, STORY_POLL_INTERVAL } from './support/lock-world';
import { EDITOR_TEXT, PageEditor } from './support/page-editor';
import { alice, bob, me } from './support/users';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** The server's default `askTimeout`: an unanswered request lapses after it. */
const ASK_TIMEOUT = 2 * MINUTE;

/** Alice is editing; a long TTL keeps her (and anyone in line) there however the clock moves. */
const aliceHoldsThePage = lockWorldLoader({
  ttl: HOUR,
  setup: (world) => world.tabOf(alice).acquire(world.resourceId),
});

/** Alice is editing and Bob asked first: whoever asks now is second in line. */
const bobAskedFirst = lockWorldLoader({
  ttl: HOUR,
  async setup(world) {
    await world.tabOf(alice).acquire(world.resourceId);
    await world.tabOf(bob).ask(world.resourceId, 'Only the phone number, promise.');
  },
});

/** This tab is editing (a long TTL), nobody else yet. */
const iHoldThePage = lockWorldLoader({ ttl: HOUR });

const handOverSpy = fn().mockName('onHandOver');

const meta = {
  title: 'Overlay/Ask to edit',
  component: LockOverlay,
  parameters: {
    docs: {
      description: {
        component: `A blocked user can **ask to edit** (with a short note) and wait in a fair line:
"You are next", "2nd in line", and what became of the request. The holder is asked beside the
editor, in a labelled region that blocks nothing and takes no focus: **Hand over** or **Keep
editing**. With \`idleTimeout\`, a holder who stopped typing is asked "Are you still editing?"
before the page is released. Every story runs against a real in-memory lock server; this tab talks
to it over HTTP, answered by MSW.`,
      },
    },
  },
  argTypes: {
    lock: { control: false },
    children: { control: false },
  },
  render: (args, { loaded }) => (
    <LockScene
      world={loaded.world as LockWorld}
      overlay={args}
      provider={{ onHandOver: handOverSpy }}
    />
  ),
  beforeEach: () => {
    handOverSpy.mockClear();
  },
} satisfies Meta<typeof LockOverlay>;

export default meta;
type Story = StoryObj<typeof meta>;

const worldOf = (loaded: Record<string, unknown>): LockWorld => loaded.world as LockWorld;

/** The status inside the blocked panel that says this tab's place and request. */
async function expectQueueStatus(panel: HTMLElement, ...lines: string[]): Promise<void> {
  await waitFor(
    () => {
      const status = within(panel).getByRole('status');
      for (const line of lines) expect(status).toHaveTextContent(line);
    },
    { timeout: 5_000 },
  );
}

/** Asks Alice from the blocked panel, with `note` when given. */
async function askAlice(panel: HTMLElement, note = ''): Promise<void> {
  if (note) {
    await userEvent.type(
      within(panel).getByRole('textbox', { name: 'Note for Alice Martin (optional)' }),
      note,
    );
  }
  await userEvent.click(within(panel).getByRole('button', { name: 'Ask to edit' }));
}

/**
 * Alice is editing: this tab asks to edit, with a note, and waits in line. The note field is
 * labelled and takes at most 200 characters; Alice's next refresh sees who asks and why.
 */
export const AskAndWaitInLine: Story = {
  loaders: [aliceHoldsThePage],
  async play({ canvasElement, loaded }) {
    const world = worldOf(loaded);
    const panel = await expectBlockOverEditor(canvasElement);
    await expect(panel).toHaveAccessibleDescription(/You can ask them to hand it over/);
    const note = within(panel).getByRole('textbox', { name: 'Note for Alice Martin (optional)' });
    await expect(note).toHaveAttribute('maxlength', '200');
    await askAlice(panel, 'Can I fix the opening hours?');
    await expectQueueStatus(panel, 'You are next', 'Waiting for Alice Martin to answer');
    await expect(within(panel).queryByRole('button', { name: 'Ask to edit' })).toBeNull();
    await expect(within(panel).getByRole('button', { name: 'Leave the line' })).toBeVisible();
    await expectLockStatus(canvasElement, 'locked');

    const [waiter] = await world.tabOf(alice).waiters(world.resourceId);
    await expect(waiter).toMatchObject({
      user: { id: me.id },
      message: 'Can I fix the opening hours?',
      request: 'pending',
    });
  },
};

/**
 * Bob asked first, so this tab is "2nd in line"; when Bob leaves the line, it is next. Before
 * asking, the panel says that someone waits.
 */
export const YouAreNext: Story = {
  loaders: [bobAskedFirst],
  async play({ canvasElement, loaded }) {
    const world = worldOf(loaded);
    const panel = await expectBlockOverEditor(canvasElement);
    await expectQueueStatus(panel, '1 person is waiting to edit this page.');
    await askAlice(panel);
    await expectQueueStatus(panel, '2nd in line', 'Waiting for Alice Martin to answer');
    await world.tabOf(bob).leave(world.resourceId);
    await expectQueueStatus(panel, 'You are next');
  },
};

/** Alice answers "Keep editing": this tab is told she is still editing, keeps its place, and may ask again. */
export const Declined: Story = {
  loaders: [aliceHoldsThePage],
  async play({ canvasElement, loaded }) {
    const world = worldOf(loaded);
    const panel = await expectBlockOverEditor(canvasElement);
    await askAlice(panel, 'Just a typo');
    await expectQueueStatus(panel, 'You are next', 'Waiting for Alice Martin to answer');
    await world.tabOf(alice).answer(world.resourceId, 'decline');
    await expectQueueStatus(panel, 'You are next', 'Alice Martin is still editing');
    await userEvent.click(within(panel).getByRole('button', { name: 'Ask again' }));
    await expectQueueStatus(panel, 'Waiting for Alice Martin to answer');
  },
};

/** Alice does not answer within the server's `askTimeout` (two minutes): this tab is told so. */
export const NoAnswer: Story = {
  loaders: [aliceHoldsThePage],
  async play({ canvasElement, loaded }) {
    const world = worldOf(loaded);
    const panel = await expectBlockOverEditor(canvasElement);
    await askAlice(panel);
    await expectQueueStatus(panel, 'Waiting for Alice Martin to answer');
    world.server.advance(ASK_TIMEOUT + 1_000);
    await expectQueueStatus(panel, 'You are next', 'Alice Martin did not answer');
    await expect(within(panel).getByRole('button', { name: 'Ask again' })).toBeVisible();
  },
};

/** Leave the line: the request ends, and the panel offers to ask again. */
export const LeaveTheLine: Story = {
  loaders: [aliceHoldsThePage],
  async play({ canvasElement, loaded }) {
    const world = worldOf(loaded);
    const panel = await expectBlockOverEditor(canvasElement);
    await askAlice(panel);
    await expectQueueStatus(panel, 'You are next');
    await userEvent.click(within(panel).getByRole('button', { name: 'Leave the line' }));
    await waitFor(
      () => expect(within(panel).getByRole('button', { name: 'Ask to edit' })).toBeVisible(),
      { timeout: 5_000 },
    );
    // The leave may still be on its way when the panel changes.
    await waitFor(
      async () => expect(await world.tabOf(alice).waiters(world.resourceId)).toEqual([]),
      { timeout: 5_000 },
    );
  },
};

/** Alice hands the page over: this tab, first in line, gets it, and its editor is usable. */
export const GivenThePage: Story = {
  loaders: [aliceHoldsThePage],
  async play({ canvasElement, loaded }) {
    const world = worldOf(loaded);
    const panel = await expectBlockOverEditor(canvasElement);
    await askAlice(panel, 'May I?');
    await expectQueueStatus(panel, 'You are next');
    await world.tabOf(alice).answer(world.resourceId, 'hand-over');
    await expectLockStatus(canvasElement, 'held');
    await expectEditorUsable(canvasElement);
    const [lock] = await world.server.service.list();
    await expect(lock?.holder).toEqual(me);
  },
};

/**
 * This tab is editing and Bob asks for the page: a labelled region above the editor says so,
 * with his note, "Hand over" and "Keep editing". It is not a dialog and takes no focus: typing
 * goes on. "Keep editing" tells Bob; he keeps his place, and the region says he waits.
 */
export const HolderPrompted: Story = {
  loaders: [iHoldThePage],
  async play({ canvasElement, loaded }) {
    const world = worldOf(loaded);
    await expectLockStatus(canvasElement, 'held');
    const body = editorBody(canvasElement);
    await userEvent.click(body);
    await world.tabOf(bob).ask(world.resourceId, 'Can I fix the phone number?');

    const prompt = await within(canvasElement).findByRole(
      'region',
      { name: 'Bob Keller asks to edit this page' },
      { timeout: 5_000 },
    );
    await expect(prompt).not.toHaveAttribute('aria-modal');
    await expect(prompt).toHaveTextContent('“Can I fix the phone number?”');
    await expect(document.activeElement).toBe(body);
    await expectEditorUsable(canvasElement);

    await userEvent.click(within(prompt).getByRole('button', { name: 'Keep editing' }));
    await within(canvasElement).findByRole(
      'region',
      { name: 'Bob Keller is waiting' },
      { timeout: 5_000 },
    );
    await expect(await world.tabOf(bob).placeInLine(world.resourceId)).toEqual({
      place: 1,
      request: 'declined',
    });
  },
};

/**
 * "Hand over": `onHandOver` runs (save a draft there), the page goes to Bob, and this tab says it
 * handed the page over, its text still on screen, read-only.
 */
export const HandedOver: Story = {
  loaders: [iHoldThePage],
  async play({ canvasElement, loaded }) {
    const world = worldOf(loaded);
    await expectLockStatus(canvasElement, 'held');
    await userEvent.type(editorBody(canvasElement), ' Closed on holidays.');
    await world.tabOf(bob).ask(world.resourceId);
    const prompt = await within(canvasElement).findByRole(
      'region',
      { name: 'Bob Keller asks to edit this page' },
      { timeout: 5_000 },
    );
    await userEvent.click(within(prompt).getByRole('button', { name: 'Hand over' }));

    const banner = await expectReadOnlyEditor(canvasElement);
    await expect(banner).toHaveAccessibleName('You handed this page to Bob Keller.');
    await expect(editorBody(canvasElement).value).toBe(`${EDITOR_TEXT} Closed on holidays.`);
    await expect(handOverSpy).toHaveBeenCalledWith(
      expect.objectContaining({ status: 'held' }),
      expect.objectContaining({ user: expect.objectContaining({ id: bob.id }) }),
    );
    await expect(world.callbacks.onLost).not.toHaveBeenCalled();
    await expect(await world.tabOf(bob).placeInLine(world.resourceId)).toBe('held');
  },
};

/** This tab's editor, with idle release: the lock comes from `usePageLock` with its options. */
function IdleEditor(props: {
  overlay: Omit<LockOverlayProps, 'children' | 'lock'>;
  idleTimeout: number;
  idleWarning: number;
  onIdle?: () => void;
}): ReactNode {
  const lock = usePageLock(undefined, {
    idleTimeout: props.idleTimeout,
    idleWarning: props.idleWarning,
    onIdle: props.onIdle,
  });
  return (
    <LockOverlay {...props.overlay} lock={lock}>
      <PageEditor />
    </LockOverlay>
  );
}

function IdleScene(props: {
  world: LockWorld;
  overlay: Omit<LockOverlayProps, 'children' | 'lock'>;
  idleTimeout: number;
  idleWarning: number;
  onIdle?: () => void;
}): ReactNode {
  const { world } = props;
  return (
    <PageLockProvider
      adapter={world.adapter}
      resourceId={world.resourceId}
      clientId={world.clientId}
      pollInterval={STORY_POLL_INTERVAL}
      {...world.callbacks}
    >
      <main className="story-page">
        <AdminHeader />
        <h1>Edit page “Contact”</h1>
        <LockStatusLine />
        <IdleEditor {...props} />
      </main>
    </PageLockProvider>
  );
}

/**
 * With `idleTimeout` (here 1 s, for the story) a holder who stops typing is asked "Are you still
 * editing?", with a countdown on the server's clock (here 60 s) and "Keep editing". It blocks
 * nothing; typing in the editor answers it too.
 */
export const IdleWarning: Story = {
  loaders: [iHoldThePage],
  render: (args, { loaded }) => (
    <IdleScene world={worldOf(loaded)} overlay={args} idleTimeout={1_000} idleWarning={60_000} />
  ),
  async play({ canvasElement }) {
    await expectLockStatus(canvasElement, 'held');
    const warning = await within(canvasElement).findByRole(
      'region',
      { name: 'Are you still editing?' },
      { timeout: 5_000 },
    );
    await expect(warning).not.toHaveAttribute('aria-modal');
    await expect(warning).toHaveAccessibleDescription(
      /^This page will be released in (60|59|58) seconds\.$/,
    );
    const first = warning.textContent;
    await waitFor(() => expect(warning.textContent).not.toBe(first), { timeout: 3_000 });
    await userEvent.click(within(warning).getByRole('button', { name: 'Keep editing' }));
    await waitFor(
      () =>
        expect(
          within(canvasElement).queryByRole('region', { name: 'Are you still editing?' }),
        ).toBeNull(),
      { timeout: 5_000 },
    );
    await expectEditorUsable(canvasElement);
  },
};

const onIdleSpy = fn().mockName('onIdle');

/** Nobody answers the warning (here 2 s): `onIdle` runs and the page is released. */
export const IdleReleased: Story = {
  loaders: [iHoldThePage],
  beforeEach: () => {
    onIdleSpy.mockClear();
  },
  render: (args, { loaded }) => (
    <IdleScene
      world={worldOf(loaded)}
      overlay={args}
      idleTimeout={1_000}
      idleWarning={2_000}
      onIdle={onIdleSpy}
    />
  ),
  async play({ canvasElement, loaded }) {
    const world = worldOf(loaded);
    await within(canvasElement).findByRole(
      'region',
      { name: 'This page was released because you were away.' },
      { timeout: 8_000 },
    );
    await expectReadOnlyEditor(canvasElement);
    await expect(onIdleSpy).toHaveBeenCalledOnce();
    await expect(world.callbacks.onLost).not.toHaveBeenCalled();
    await expect(await world.server.service.list()).toEqual([]);
  },
};

/** The line in German, through `messages` (every word, see `support/german-messages.ts`). */
export const GermanInLine: Story = {
  args: { messages: germanMessages, locale: 'de-DE' },
  loaders: [bobAskedFirst],
  decorators: [
    (Story) => (
      <div lang="de">
        <Story />
      </div>
    ),
  ],
  async play({ canvasElement, loaded }) {
    const world = worldOf(loaded);
    const panel = await within(canvasElement).findByRole(
      'region',
      { name: /^Alice Martin bearbeitet diese Seite seit/ },
      { timeout: 5_000 },
    );
    await expectQueueStatus(panel, '1 Person wartet darauf, diese Seite zu bearbeiten.');
    await userEvent.type(
      within(panel).getByRole('textbox', { name: 'Nachricht an Alice Martin (optional)' }),
      'Nur die Telefonnummer',
    );
    await userEvent.click(within(panel).getByRole('button', { name: 'Um Bearbeitung bitten' }));
    await expectQueueStatus(
      panel,
      '2. in der Reihe',
      'Sie warten auf die Antwort von Alice Martin',
    );
    await world.tabOf(bob).leave(world.resourceId);
    await expectQueueStatus(panel, 'Sie sind als Nächstes dran');
    await expect(within(panel).getByRole('button', { name: 'Nicht mehr warten' })).toBeVisible();
  },
};
