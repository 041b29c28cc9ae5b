import type { Meta, StoryObj } from '@storybook/react-vite';
import { delay, HttpResponse, http } from 'msw';
import { type CSSProperties, type ReactNode, useId, useState } from 'react';
import { expect, userEvent, waitFor, within } from 'storybook/test';
import { createLockHandlers } from '../src/msw';
import { PROTOCOL_VERSION, PROTOCOL_VERSION_HEADER } from '../src/protocol/protocol';
import { LockOverlay, type LockOverlayProps } from '../src/react/overlay';
import { PageLockProvider } from '../src/react/page-lock-provider';
import {
  editorBody,
  expectBlockOverEditor,
  expectEditorUsable,
  expectLockStatus,
  expectPageUsable,
  expectReadOnlyEditor,
} from './support/checks';
import { germanMessages } from './support/german-messages';
import { LockScene, LockStatusLine } from './support/lock-scene';
import {
  LOCKS_BASE_URL,
  type LockWorld,
  lockWorldLoader,
  STORY_POLL_INTERVAL,
} from './support/lock-world';
import { navigation } from './support/navigation';
import { EDITOR_TEXT, PageEditor } from './support/page-editor';
import { alice, me } from './support/users';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** The memory server's default lease: a lease lapses once its clock moves past it. */
const DEFAULT_TTL = 90_000;

/** Alice opened the page five minutes ago and is still editing (a long TTL keeps her there). */
const aliceHoldsThePage = lockWorldLoader({
  ttl: HOUR,
  async setup(world) {
    const tab = world.tabOf(alice);
    await tab.acquire(world.resourceId);
    await tab.holdFor(world.resourceId, 5 * MINUTE);
  },
});

const meta = {
  title: 'Overlay/LockOverlay',
  component: LockOverlay,
  parameters: {
    docs: {
      description: {
        component: `Covers the editor while someone else holds the page, says who and since when, and
offers what the user can do: **Go back**, **Take over** (when the server allows it) or, for this
user's other tab, **Edit here instead**. After a lost lock it says what happened and keeps the
editor's text on screen, read-only, so it can be copied. While this tab holds the lock it shows
nothing. Every story here runs against a real in-memory lock server; this tab talks to it over
HTTP (\`createHttpLockAdapter\`), answered in the browser by MSW handlers from \`page-lock/msw\`.`,
      },
    },
  },
  argTypes: {
    lock: { control: false },
    children: { control: false },
  },
  render: (args, { loaded }) => <LockScene world={loaded.world as LockWorld} overlay={args} />,
} satisfies Meta<typeof LockOverlay>;

export default meta;
type Story = StoryObj<typeof meta>;

const worldOf = (loaded: Record<string, unknown>): LockWorld => loaded.world as LockWorld;

/**
 * The first acquire is on its way (here it never answers): the editor waits, inert, under a quiet
 * "Checking who is editing…" (no dialog, no focus trap), so nothing typed can freeze under a late
 * overlay.
 */
export const Acquiring: Story = {
  loaders: [lockWorldLoader()],
  beforeEach({ msw }) {
    msw.use(http.post(`*${LOCKS_BASE_URL}/:id`, () => delay('infinite')));
  },
  async play({ canvasElement }) {
    await expectLockStatus(canvasElement, 'acquiring');
    await expect(within(canvasElement).queryByRole('dialog')).toBeNull();
    await expect(editorBody(canvasElement).closest('[inert]')).not.toBeNull();
    await expect(canvasElement.querySelector('.page-lock-overlay__live')?.textContent).toBe(
      'Checking who is editing…',
    );
  },
};

/** This tab holds the lock: nothing is shown and the editor is usable. */
export const Held: Story = {
  loaders: [lockWorldLoader()],
  async play({ canvasElement, loaded }) {
    const world = worldOf(loaded);
    await expectLockStatus(canvasElement, 'held');
    await expectEditorUsable(canvasElement);
    const [lock] = await world.server.service.list();
    await expect(lock?.holder).toEqual(me);
    await expect(world.callbacks.onAcquired).toHaveBeenCalled();
  },
};

/** Another user holds the page: their name, avatar and since when; the editor behind is inert. */
export const LockedByAnotherUser: Story = {
  loaders: [aliceHoldsThePage],
  async play({ canvasElement }) {
    const dialog = await expectBlockOverEditor(canvasElement);
    const panel = within(dialog);
    await expect(
      panel.getByRole('heading', {
        name: /^Alice Martin has been editing this page since .+ \(5 minutes ago\)$/,
      }),
    ).toBeVisible();
    await expect(panel.getByRole('img', { name: 'Alice Martin' })).toBeVisible();
    await expect(dialog).toHaveAccessibleDescription(/wait until they are done or go back/);
    await expect(panel.queryByRole('button', { name: 'Take over' })).toBeNull();
  },
};

/** This user holds the page in another tab: "Edit here instead" moves the lock to this tab. */
export const LockedByMeInAnotherTab: Story = {
  loaders: [
    lockWorldLoader({
      setup: (world) => world.tabOf(me, 'my-other-tab').acquire(world.resourceId),
    }),
  ],
  async play({ canvasElement, loaded }) {
    const world = worldOf(loaded);
    const dialog = await expectBlockOverEditor(canvasElement);
    await expect(
      within(dialog).getByRole('heading', { name: /^You are editing this page in another tab/ }),
    ).toBeVisible();
    await userEvent.click(within(dialog).getByRole('button', { name: 'Edit here instead' }));
    await expectLockStatus(canvasElement, 'held');
    await expectEditorUsable(canvasElement);
    // The other tab finds out on its next refresh.
    await expect(await world.tabOf(me, 'my-other-tab').refresh(world.resourceId)).toBe(
      'taken-over',
    );
  },
};

/** The server allows this user to take over: Take over, and the editor is theirs. */
export const TakeOverAllowed: Story = {
  loaders: [
    lockWorldLoader({
      canTakeOver: (user) => user.id === me.id,
      setup: (world) => world.tabOf(alice).acquire(world.resourceId),
    }),
  ],
  async play({ canvasElement, loaded }) {
    const world = worldOf(loaded);
    const dialog = await expectBlockOverEditor(canvasElement);
    await expect(dialog).toHaveAccessibleDescription(/Taking over discards their unsaved changes/);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Take over' }));
    await expectLockStatus(canvasElement, 'held');
    await expectEditorUsable(canvasElement);
    const [lock] = await world.server.service.list();
    await expect(lock?.holder).toEqual(me);
  },
};

/** Not allowed (the server's default): only Go back, here a link to the page list. */
export const TakeOverNotAllowed: Story = {
  args: { backHref: '#/admin/pages' },
  loaders: [aliceHoldsThePage],
  async play({ canvasElement, args }) {
    const dialog = await expectBlockOverEditor(canvasElement);
    await expect(within(dialog).queryByRole('button', { name: 'Take over' })).toBeNull();
    const back = within(dialog).getByRole('link', { name: 'Go back' });
    await expect(back).toHaveAttribute('href', args.backHref);
  },
};

/** Go back without `backHref` goes back one history entry (here a spy, see the preview). */
export const GoBack: Story = {
  loaders: [aliceHoldsThePage],
  async play({ canvasElement }) {
    const dialog = await expectBlockOverEditor(canvasElement);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Go back' }));
    await expect(navigation.back).toHaveBeenCalledTimes(1);
  },
};

/**
 * This tab held the lock and Alice (allowed by the server) took it over. The text typed before
 * stays on screen, selectable but read-only, under a non-modal dialog; `onLost` is told why.
 */
export const LostTakenOver: Story = {
  loaders: [lockWorldLoader({ canTakeOver: (user) => user.id === alice.id })],
  async play({ canvasElement, loaded }) {
    const world = worldOf(loaded);
    await expectLockStatus(canvasElement, 'held');
    await userEvent.type(editorBody(canvasElement), ' Closed on holidays.');
    await world.tabOf(alice).takeOver(world.resourceId);

    const dialog = await expectReadOnlyEditor(canvasElement);
    await expect(
      within(dialog).getByRole('heading', {
        name: 'Alice Martin took over this page, so you can no longer edit it.',
      }),
    ).toBeVisible();
    await expect(editorBody(canvasElement).value).toBe(`${EDITOR_TEXT} Closed on holidays.`);
    await expect(world.callbacks.onLost).toHaveBeenCalledWith(
      expect.objectContaining({ status: 'lost', reason: 'taken-over' }),
    );
    await userEvent.click(within(dialog).getByRole('button', { name: 'Reload' }));
    await expect(navigation.reload).toHaveBeenCalledTimes(1);
  },
};

/**
 * This user chose "Edit here instead" in another tab: this (old) tab says so, not that someone
 * took the page over, and keeps its text on screen, read-only.
 */
export const LostToMyOtherTab: Story = {
  loaders: [lockWorldLoader()],
  async play({ canvasElement, loaded }) {
    const world = worldOf(loaded);
    await expectLockStatus(canvasElement, 'held');
    await userEvent.type(editorBody(canvasElement), ' Closed on holidays.');
    await world.tabOf(me, 'my-other-tab').takeOver(world.resourceId);

    const dialog = await expectReadOnlyEditor(canvasElement);
    await expect(
      within(dialog).getByRole('heading', { name: 'You opened this page in another tab.' }),
    ).toBeVisible();
    await expect(editorBody(canvasElement).value).toBe(`${EDITOR_TEXT} Closed on holidays.`);
  },
};

/** This tab's lease lapsed (the server's clock moved past the TTL) and Alice has the page now. */
export const LostExpired: Story = {
  loaders: [lockWorldLoader()],
  async play({ canvasElement, loaded }) {
    const world = worldOf(loaded);
    await expectLockStatus(canvasElement, 'held');
    world.server.advance(DEFAULT_TTL + 1_000);
    await world.tabOf(alice).acquire(world.resourceId);

    const dialog = await expectReadOnlyEditor(canvasElement);
    await expect(
      within(dialog).getByRole('heading', {
        name: 'Your editing session expired and Alice Martin is editing this page now.',
      }),
    ).toBeVisible();
    await expect(world.callbacks.onLost).toHaveBeenCalledWith(
      expect.objectContaining({ reason: 'expired' }),
    );
  },
};

/** The lease lapsed, Alice edited the page meanwhile and left: this tab's copy is stale. */
export const LostEditedMeanwhile: Story = {
  loaders: [lockWorldLoader()],
  async play({ canvasElement, loaded }) {
    const world = worldOf(loaded);
    await expectLockStatus(canvasElement, 'held');
    world.server.advance(DEFAULT_TTL + 1_000);
    const aliceTab = world.tabOf(alice);
    await aliceTab.acquire(world.resourceId);
    await aliceTab.release(world.resourceId);

    const dialog = await expectReadOnlyEditor(canvasElement);
    await expect(
      within(dialog).getByRole('heading', {
        name: 'Your editing session expired and someone else edited this page meanwhile.',
      }),
    ).toBeVisible();
    await expect(world.callbacks.onLost).toHaveBeenCalledWith(
      expect.objectContaining({ reason: 'edited-meanwhile' }),
    );
  },
};

const storeFailure = () =>
  HttpResponse.json(
    { error: { code: 'store-error', message: 'The lock store failed' }, now: Date.now() },
    { status: 500, headers: { [PROTOCOL_VERSION_HEADER]: String(PROTOCOL_VERSION) } },
  );

/**
 * The lock server answers 500: editing waits until we know nobody else edits. Once the server
 * is back, Retry gets the lock.
 */
export const ServerError: Story = {
  loaders: [lockWorldLoader()],
  beforeEach({ msw }) {
    msw.use(
      http.all(`*${LOCKS_BASE_URL}`, storeFailure),
      http.all(`*${LOCKS_BASE_URL}/*`, storeFailure),
    );
  },
  async play({ canvasElement, loaded, msw }) {
    const world = worldOf(loaded);
    const dialog = await expectBlockOverEditor(canvasElement);
    await expect(
      within(dialog).getByRole('heading', { name: 'The lock server had a problem.' }),
    ).toBeVisible();
    await expectLockStatus(canvasElement, 'error');

    msw.use(...createLockHandlers({ baseUrl: LOCKS_BASE_URL, server: world.server, user: me }));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Retry' }));
    await expectLockStatus(canvasElement, 'held');
    await expectEditorUsable(canvasElement);
  },
};

/** No answer at all (offline, connection reset): the server could not be reached. */
export const NetworkError: Story = {
  loaders: [lockWorldLoader()],
  beforeEach({ msw }) {
    msw.use(http.all(`*${LOCKS_BASE_URL}/*`, () => HttpResponse.error()));
  },
  async play({ canvasElement }) {
    const dialog = await expectBlockOverEditor(canvasElement);
    await expect(dialog).toHaveAccessibleName('The lock server could not be reached.');
    await expect(dialog).toHaveAccessibleDescription(
      'Editing is paused until we know nobody else is editing this page.',
    );
  },
};

const refusal = (status: number, code: string) => () =>
  HttpResponse.json(
    { error: { code, message: `Refused (${code})` }, now: Date.now() },
    { status, headers: { [PROTOCOL_VERSION_HEADER]: String(PROTOCOL_VERSION) } },
  );

/** The server says nobody is signed in (401): sign in again, then Retry. */
export const NotSignedIn: Story = {
  loaders: [lockWorldLoader()],
  beforeEach({ msw }) {
    msw.use(http.all(`*${LOCKS_BASE_URL}/*`, refusal(401, 'unauthorized')));
  },
  async play({ canvasElement }) {
    const dialog = await expectBlockOverEditor(canvasElement);
    await expect(dialog).toHaveAccessibleName(
      'You are not signed in, so this page cannot be reserved for you.',
    );
    await expect(dialog).toHaveAccessibleDescription(/^Sign in again/);
  },
};

/**
 * Refused as cross-site (403): the user is told they may not edit; the developer console names
 * the likely fix (`allowedOrigins`, `trustProxy`).
 */
export const NotAllowed: Story = {
  loaders: [lockWorldLoader()],
  beforeEach({ msw }) {
    msw.use(http.all(`*${LOCKS_BASE_URL}/*`, refusal(403, 'cross-site')));
  },
  async play({ canvasElement }) {
    const dialog = await expectBlockOverEditor(canvasElement);
    await expect(dialog).toHaveAccessibleName('You are not allowed to edit this page.');
    await expect(within(dialog).getAllByRole('button')[0]).toHaveTextContent('Go back');
  },
};

/** No lock route at the adapter's URL (a wrong `baseUrl`, a missing route file): 404. */
export const NoLockRoute: Story = {
  loaders: [lockWorldLoader()],
  beforeEach({ msw }) {
    msw.use(
      http.all(
        `*${LOCKS_BASE_URL}/*`,
        () => new HttpResponse('<!doctype html><h1>404</h1>', { status: 404 }),
      ),
    );
  },
  async play({ canvasElement }) {
    const dialog = await expectBlockOverEditor(canvasElement);
    await expect(dialog).toHaveAccessibleName(
      'Editing is unavailable: this page cannot check who else is editing it.',
    );
  },
};

/**
 * The fail-safe: this tab held the lock, then lost the server. It keeps editing only until its
 * lease would have lapsed (3 s here), then it is `lost` (`unreachable`) and keeps trying; once
 * the server answers again, Retry resumes the same lease.
 */
export const LostUnreachable: Story = {
  loaders: [lockWorldLoader({ ttl: 3_000 })],
  async play({ canvasElement, loaded, msw }) {
    const world = worldOf(loaded);
    await expectLockStatus(canvasElement, 'held');
    msw.use(http.all(`*${LOCKS_BASE_URL}/*`, () => HttpResponse.error()));

    const dialog = await within(canvasElement).findByRole(
      'region',
      {
        name: 'The connection to the server was lost, so this page is no longer reserved for you.',
      },
      { timeout: 8_000 },
    );
    await expectReadOnlyEditor(canvasElement);
    await expect(world.callbacks.onLost).toHaveBeenCalledWith(
      expect.objectContaining({ reason: 'unreachable' }),
    );

    msw.use(...createLockHandlers({ baseUrl: LOCKS_BASE_URL, server: world.server, user: me }));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Retry' }));
    await expectLockStatus(canvasElement, 'held');
    await expectEditorUsable(canvasElement);
  },
};

/**
 * Without children the overlay covers the whole page: a modal `<dialog>` opened with
 * `showModal()`, in the top layer, so the browser moves focus into it and makes the rest of the
 * page (here Storybook's root: header, editor and all) inert. Escape does not dismiss it.
 */
export const WholePage: Story = {
  loaders: [aliceHoldsThePage],
  render: (args, { loaded }) => (
    <LockScene world={loaded.world as LockWorld} overlay={args} scope="page" />
  ),
  async play({ canvasElement }) {
    const dialog = await waitFor(
      () => {
        const element = document.querySelector<HTMLDialogElement>(
          'dialog.page-lock-overlay__panel',
        );
        if (!element?.open) throw new Error('no dialog yet');
        return element;
      },
      { timeout: 5_000 },
    );
    await expect(canvasElement).not.toContainElement(dialog);
    await expect(dialog.matches(':modal')).toBe(true);
    await expect(dialog).toHaveAccessibleName(/^Alice Martin has been editing this page since/);
    await waitFor(() => expect(document.activeElement).toHaveTextContent('Go back'));
    await expect(dialog).toContainElement(document.activeElement as HTMLElement);

    // The rest of the page is inert, by the platform: its link and the editor take no focus.
    const link = canvasElement.querySelector<HTMLElement>('a[href="#pages"]');
    link?.focus();
    await expect(document.activeElement).not.toBe(link);
    editorBody(canvasElement).focus();
    await expect(dialog).toContainElement(document.activeElement as HTMLElement);

    // Escape is a close request, which `closedby="none"` makes Chromium ignore; elsewhere it is a
    // `cancel` the overlay refuses.
    await expect(dialog).toHaveAttribute('closedby', 'none');
    const cancel = new Event('cancel', { cancelable: true });
    dialog.dispatchEvent(cancel);
    await expect(cancel.defaultPrevented).toBe(true);
    // Closed anyway (a second Escape without a click in between may close a dialog): it opens
    // again, still modal.
    dialog.close();
    await waitFor(() => expect(dialog.matches(':modal')).toBe(true));
  },
};

/**
 * The block over the wrapped editor is not a modal: the editor is inert under a labelled region,
 * but the admin's header link and "Sign out" keep working, and focus put there stays there.
 */
export const BlockedEditorLeavesThePageUsable: Story = {
  loaders: [aliceHoldsThePage],
  async play({ canvasElement }) {
    await expectBlockOverEditor(canvasElement);
    await expectPageUsable(canvasElement);
    await expect(within(canvasElement).queryByRole('dialog')).toBeNull();
    await expect(canvasElement.querySelector('[aria-modal]')).toBeNull();
  },
};

/**
 * Without children, after a lost lock: the banner is not a modal, and the rest of the page is
 * read-only (not inert), so the text can still be selected and copied.
 */
export const WholePageLost: Story = {
  loaders: [lockWorldLoader({ canTakeOver: (user) => user.id === alice.id })],
  render: (args, { loaded }) => (
    <LockScene world={loaded.world as LockWorld} overlay={args} scope="page" />
  ),
  async play({ canvasElement, loaded }) {
    const world = worldOf(loaded);
    await expectLockStatus(canvasElement, 'held');
    await world.tabOf(alice).takeOver(world.resourceId);
    const banner = await within(document.body).findByRole(
      'region',
      { name: 'Alice Martin took over this page, so you can no longer edit it.' },
      { timeout: 5_000 },
    );
    await expect(canvasElement).not.toContainElement(banner);
    await expect(document.querySelector('dialog')).toBeNull();
    const body = editorBody(canvasElement);
    await expect(body.closest('[inert]')).toBeNull();
    await expect(body).toHaveAttribute('readonly');
    await expect(getComputedStyle(body).borderTopStyle).toBe('dashed');
    body.select();
    await expect(body.selectionEnd - body.selectionStart).toBe(body.value.length);
  },
};

/** `blockEditing={false}`: a notice above the editor instead of a modal; the editor stays usable. */
export const NonBlockingNotice: Story = {
  args: { blockEditing: false },
  loaders: [aliceHoldsThePage],
  async play({ canvasElement }) {
    const notice = await waitFor(
      () => {
        const element = canvasElement.querySelector<HTMLElement>('.page-lock-overlay__panel');
        if (!element) throw new Error('no notice yet');
        return element;
      },
      { timeout: 5_000 },
    );
    await expect(notice).toHaveAttribute('role', 'status');
    await expect(notice).toHaveTextContent(/^Alice Martin has been editing this page since/);
    await expectEditorUsable(canvasElement);
  },
};

/**
 * Every word replaced through `messages` (the full German set, ask to edit included), times in
 * German through `locale`.
 */
export const GermanMessages: Story = {
  args: { messages: germanMessages, locale: 'de-DE' },
  loaders: [aliceHoldsThePage],
  decorators: [
    (Story) => (
      <div lang="de">
        <Story />
      </div>
    ),
  ],
  async play({ canvasElement }) {
    const dialog = await expectBlockOverEditor(canvasElement);
    await expect(
      within(dialog).getByRole('heading', {
        name: /^Alice Martin bearbeitet diese Seite seit .+ \(vor 5 Minuten\)$/,
      }),
    ).toBeVisible();
    await expect(
      within(dialog).getByRole('img', { name: 'Profilbild von Alice Martin' }),
    ).toBeVisible();
    await expect(within(dialog).getByRole('button', { name: 'Zurück' })).toBeVisible();
  },
};

/** Parts replaced through render props: initials for the avatar, a richer message, own buttons. */
export const CustomRenderProps: Story = {
  args: {
    renderAvatar: (holder) => (
      <span className="story-initials" role="img" aria-label={holder.name}>
        {holder.name
          .split(' ')
          .map((part) => part[0])
          .join('')}
      </span>
    ),
    renderMessage: (view) => (
      <>
        <strong>{view.words.name}</strong> is working on this page ({view.words.relative})
      </>
    ),
    renderActions: (view) =>
      view.actions.map((action) => (
        <button key={action.id} type="button" className="story-action" onClick={action.run}>
          {action.id === 'go-back' ? '← Back to all pages' : action.label}
        </button>
      )),
  },
  loaders: [aliceHoldsThePage],
  async play({ canvasElement }) {
    const dialog = await expectBlockOverEditor(canvasElement);
    await expect(within(dialog).getByRole('img', { name: 'Alice Martin' })).toHaveTextContent('AM');
    await expect(
      within(dialog).getByRole('heading', {
        name: 'Alice Martin is working on this page (5 minutes ago)',
      }),
    ).toBeVisible();
    await userEvent.click(within(dialog).getByRole('button', { name: '← Back to all pages' }));
    await expect(navigation.back).toHaveBeenCalledTimes(1);
  },
};

/** A dark theme through the `--page-lock-*` custom properties only (see `.storybook/stories.css`). */
export const DarkTheme: Story = {
  loaders: [aliceHoldsThePage],
  decorators: [
    (Story) => (
      <div className="story-dark">
        <Story />
      </div>
    ),
  ],
  async play({ canvasElement }) {
    const dialog = await expectBlockOverEditor(canvasElement);
    await expect(getComputedStyle(dialog).backgroundColor).toBe('rgb(22, 27, 34)');
    await expect(getComputedStyle(dialog).color).toBe('rgb(230, 237, 243)');
  },
};

/**
 * The theme set on an ancestor of the overlay (a wrapper's `style` here; a `.my-admin { … }` or
 * `:root { … }` rule works the same): the stylesheet's defaults have no specificity, so the
 * ancestor's values reach the panel and its buttons.
 */
export const ThemedFromAnAncestor: Story = {
  loaders: [aliceHoldsThePage],
  decorators: [
    (Story) => (
      <div
        className="my-admin"
        style={
          { '--page-lock-surface': '#eef6ff', '--page-lock-accent': '#6639ba' } as CSSProperties
        }
      >
        <Story />
      </div>
    ),
  ],
  async play({ canvasElement }) {
    const dialog = await expectBlockOverEditor(canvasElement);
    await expect(getComputedStyle(dialog).backgroundColor).toBe('rgb(238, 246, 255)');
    const goBack = within(dialog).getByRole('button', { name: 'Go back' });
    await expect(getComputedStyle(goBack).backgroundColor).toBe('rgb(102, 57, 186)');
    // What the ancestor left alone keeps the stylesheet's default.
    await expect(getComputedStyle(dialog).color).toBe('rgb(31, 35, 40)');
  },
};

/** One editor of the page, in its own tab (`clientId`), under its own overlay. */
function EditorTab(props: {
  world: LockWorld;
  clientId: string;
  name: string;
  overlay: Omit<LockOverlayProps, 'children'>;
}): ReactNode {
  const headingId = useId();
  const { world } = props;
  return (
    <section className="story-pane" aria-labelledby={headingId}>
      <h2 id={headingId}>{props.name}</h2>
      <PageLockProvider
        adapter={world.adapter}
        resourceId={world.resourceId}
        clientId={props.clientId}
        pollInterval={STORY_POLL_INTERVAL}
        {...world.callbacks}
      >
        <LockStatusLine />
        <LockOverlay {...props.overlay}>
          <PageEditor label={`${props.name}: page editor`} />
        </LockOverlay>
      </PageLockProvider>
    </section>
  );
}

/** Two editors in one document; the second opens (and closes) on request. */
function TwoEditorTabs(props: {
  world: LockWorld;
  overlay: Omit<LockOverlayProps, 'children'>;
}): ReactNode {
  const [secondIsOpen, setSecondIsOpen] = useState(false);
  return (
    <div className="story-page">
      <div className="story-toolbar">
        <button type="button" onClick={() => setSecondIsOpen((open) => !open)}>
          {secondIsOpen ? 'Close the second editor' : 'Open a second editor'}
        </button>
      </div>
      <div className="story-columns">
        <EditorTab
          world={props.world}
          clientId={props.world.clientId}
          name="First editor"
          overlay={props.overlay}
        />
        {secondIsOpen && (
          <EditorTab
            world={props.world}
            clientId="this-tab-2"
            name="Second editor"
            overlay={props.overlay}
          />
        )}
      </div>
    </div>
  );
}

/**
 * Two blocked editors in one document (two editors side by side, or this docs page): neither
 * holds focus, so they cannot fight over it (two focus traps once overflowed the call stack
 * here). Focus the user puts in one stays there when the other opens and closes.
 */
export const TwoBlockedEditors: Story = {
  loaders: [aliceHoldsThePage],
  render: (args, { loaded }) => <TwoEditorTabs world={worldOf(loaded)} overlay={args} />,
  parameters: {
    // Both panels say the same ("Alice Martin has been editing…") inside differently named
    // panes; axe's landmark-unique asks for a name of their own, which only the app can give.
    a11y: { config: { rules: [{ id: 'landmark-unique', enabled: false }] } },
  },
  async play({ canvasElement }) {
    const canvas = within(canvasElement);
    const focused = () => document.activeElement as HTMLElement;
    const panelIn = async (name: string) => {
      const tab = await canvas.findByRole('region', { name });
      return within(tab).findByRole(
        'region',
        { name: /^Alice Martin has been editing/ },
        { timeout: 5_000 },
      );
    };
    const first = await panelIn('First editor');
    const firstGoBack = within(first).getByRole('button', { name: 'Go back' });
    firstGoBack.focus();

    const toggle = canvas.getByRole('button', { name: 'Open a second editor' });
    await userEvent.click(toggle);
    const second = await panelIn('Second editor');
    // Focus was on the page's toggle, not in an editor: nothing takes it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(focused()).toBe(toggle);
    for (const name of ['First editor', 'Second editor']) {
      const tab = canvas.getByRole('region', { name });
      await expect(editorBody(tab).closest('[inert]')).not.toBeNull();
    }
    firstGoBack.focus();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(focused()).toBe(firstGoBack);

    within(second).getByRole('button', { name: 'Go back' }).focus();
    await userEvent.click(canvas.getByRole('button', { name: 'Close the second editor' }));
    await expect(canvas.queryByRole('region', { name: 'Second editor' })).toBeNull();
    toggle.focus();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(focused()).toBe(toggle);
  },
};
