import { act, cleanup, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { StrictMode } from 'react';
import { renderToString } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it, type Mock, vi } from 'vitest';
import { LockAdapterError } from '../../src/core/adapter';
import { setNavigation } from '../../src/core/navigation';
import { createMemoryLockAdapter } from '../../src/memory/memory-adapter';
import { createMemoryLockServer } from '../../src/memory/memory-server';
import type { LockUser } from '../../src/protocol/protocol';
import {
  defaultLockOverlayMessages,
  LockOverlay,
  LockOverlayActions,
  LockOverlayContent,
  LockOverlayDescription,
  type LockOverlayMessages,
  LockOverlayPanel,
  type LockOverlayProps,
  LockOverlayRoot,
  LockOverlayTitle,
  useLockOverlay,
} from '../../src/react/overlay';
import { formatClockTime, formatRelativeTime } from '../../src/react/overlay/relative-time';
import { PageLockProvider } from '../../src/react/page-lock-provider';
import type { PageLockState } from '../../src/react/types';
import { lockState, MINUTE, me, SINCE } from './overlay-lock-state';

const alice: LockUser = { id: 'u-alice', name: 'Alice', avatarUrl: 'https://example.test/a.png' };
const carol: LockUser = { id: 'u-carol', name: 'Carol' };

const held = () => lockState();
const lockedByAlice = (overrides: Partial<PageLockState> = {}) =>
  lockState({
    status: 'locked',
    holder: alice,
    isOwner: false,
    token: null,
    fence: null,
    ...overrides,
  });
const lockedBySelf = () =>
  lockState({ status: 'locked', holder: me, isSelf: true, canTakeOver: true, isOwner: false });
const lost = (reason: PageLockState['reason'], holder: LockUser | null = carol) =>
  lockState({ status: 'lost', reason, holder, since: holder ? SINCE : null, isOwner: false });
const unreachableError = () =>
  lockState({
    status: 'error',
    holder: null,
    since: null,
    isOwner: false,
    error: new Error('offline'),
  });

/** The overlay around an uncontrolled editor, times in en-GB/UTC so "10:42" is stable. */
function Editor(props: Omit<LockOverlayProps, 'children'> & { lock: PageLockState }) {
  return (
    <LockOverlay locale="en-GB" timeZone="UTC" {...props}>
      <label>
        Body
        <textarea defaultValue="" />
      </label>
    </LockOverlay>
  );
}

const contentWrapper = (container: HTMLElement) =>
  container.querySelector<HTMLElement>('.page-lock-overlay__content');

let navigation: { reload: Mock<() => void>; back: Mock<() => void> };
let restoreNavigation: () => void;
beforeEach(() => {
  navigation = { reload: vi.fn<() => void>(), back: vi.fn<() => void>() };
  restoreNavigation = setNavigation(navigation);
});
/** Puts elements of "the rest of the page" into <body>, taken out again after the test. */
const addedToBody: Element[] = [];
function addToBody(...elements: Element[]) {
  document.body.append(...elements);
  addedToBody.push(...elements);
}
afterEach(() => {
  restoreNavigation();
  cleanup();
  for (const element of addedToBody.splice(0)) element.remove();
  vi.useRealTimers();
});

describe('while this tab holds the lock, or nothing is decided yet', () => {
  it.each(['held', 'idle', 'acquiring', 'free'] as const)(
    'shows nothing but the editor when %s',
    (status) => {
      const { container } = render(<Editor lock={lockState({ status })} />);
      expect(screen.queryByRole('dialog')).toBeNull();
      expect(screen.queryByRole('status')).toBeNull();
      expect(screen.queryByRole('button')).toBeNull();
      expect(contentWrapper(container)?.hasAttribute('inert')).toBe(false);
      expect(screen.getByRole('textbox', { name: 'Body' })).toBeTruthy();
      expect(container.firstElementChild?.getAttribute('data-state')).toBe('hidden');
    },
  );
});

describe('while the first answer of a lock acquired on mount is on its way (isChecking)', () => {
  const checking = () =>
    lockState({
      status: 'acquiring',
      isChecking: true,
      isOwner: false,
      token: null,
      holder: null,
      since: null,
    });

  it('makes the editor inert under a quiet status: no dialog, no buttons, no focus moved', () => {
    const focused = document.createElement('button');
    addToBody(focused);
    focused.focus();
    const { container } = render(<Editor lock={checking()} />);
    expect(contentWrapper(container)?.hasAttribute('inert')).toBe(true);
    expect(container.firstElementChild?.getAttribute('data-state')).toBe('checking');
    expect(container.firstElementChild?.getAttribute('data-mode')).toBe('checking');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(container.querySelectorAll('button')).toHaveLength(0);
    expect(container.querySelector('.page-lock-overlay__live')?.textContent).toBe(
      'Checking who is editing…',
    );
    expect(document.activeElement).toBe(focused);
  });

  it('covers the whole page without children, with no focus trap', () => {
    const app = document.createElement('main');
    addToBody(app);
    const { rerender } = render(<LockOverlay lock={checking()} />, { container: app });
    expect(app.hasAttribute('inert')).toBe(true);
    expect(screen.queryByRole('dialog')).toBeNull();
    rerender(<LockOverlay lock={held()} />);
    expect(app.hasAttribute('inert')).toBe(false);
  });

  it('takes its words from messages.checking', () => {
    render(<Editor lock={checking()} messages={{ checking: 'Wer bearbeitet gerade…' }} />);
    expect(screen.getAllByText('Wer bearbeitet gerade…').length).toBeGreaterThan(0);
  });
});

describe('while another user holds the page', () => {
  it('says who holds it and since when, in clock and relative time', () => {
    render(<Editor lock={lockedByAlice()} />);
    const dialog = screen.getByRole('region', {
      name: 'Alice has been editing this page since 10:42 (5 minutes ago)',
    });
    // A block over the wrapped editor is not a modal: the rest of the page stays usable.
    expect(dialog.hasAttribute('aria-modal')).toBe(false);
    expect(dialog.getAttribute('data-state')).toBe('locked');
    const description = document.getElementById(dialog.getAttribute('aria-describedby') ?? '');
    expect(description?.textContent).toBe(
      defaultLockOverlayMessages.lockedDescription({
        name: 'Alice',
        time: '10:42',
        relative: '5 minutes ago',
        canTakeOver: false,
        canAsk: false,
        inLine: false,
      }),
    );
    expect(within(dialog).getByRole('img', { name: 'Alice' }).getAttribute('src')).toBe(
      alice.avatarUrl,
    );
  });

  it('makes the editor inert and offers only Go back when taking over is not allowed', () => {
    const { container } = render(<Editor lock={lockedByAlice()} />);
    expect(contentWrapper(container)?.getAttribute('inert')).toBe('');
    expect(screen.getAllByRole('button').map((button) => button.textContent)).toEqual(['Go back']);
  });

  it('goes back one history entry by default', async () => {
    const user = userEvent.setup();
    render(<Editor lock={lockedByAlice()} />);
    await user.click(screen.getByRole('button', { name: 'Go back' }));
    expect(navigation.back).toHaveBeenCalledTimes(1);
  });

  it('goes where onGoBack says instead', async () => {
    const user = userEvent.setup();
    const onGoBack = vi.fn();
    render(<Editor lock={lockedByAlice()} onGoBack={onGoBack} />);
    await user.click(screen.getByRole('button', { name: 'Go back' }));
    expect(onGoBack).toHaveBeenCalledTimes(1);
    expect(navigation.back).not.toHaveBeenCalled();
  });

  it('makes Go back a link to backHref', () => {
    render(<Editor lock={lockedByAlice()} backHref="/admin/pages" />);
    const link = screen.getByRole('link', { name: 'Go back' });
    expect(link.getAttribute('href')).toBe('/admin/pages');
    expect(link.className).toBe('page-lock-overlay__button');
  });

  it('takes over when allowed, once even when clicked twice', async () => {
    const user = userEvent.setup();
    let finish = () => {};
    const takeOver = vi.fn(
      () =>
        new Promise<void>((resolve) => {
          finish = resolve;
        }),
    );
    render(<Editor lock={lockedByAlice({ canTakeOver: true, takeOver })} />);
    const button = screen.getByRole('button', { name: 'Take over' });
    await user.click(button);
    await user.click(button);
    expect(takeOver).toHaveBeenCalledTimes(1);
    expect(button.getAttribute('aria-disabled')).toBe('true');
    await act(async () => finish());
    expect(button.hasAttribute('aria-disabled')).toBe(false);
    await user.click(button);
    expect(takeOver).toHaveBeenCalledTimes(2);
  });

  it('keeps the relative time current while shown', () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'], now: SINCE });
    render(<Editor lock={lockedByAlice({ serverTimeOffset: 5 * MINUTE })} />);
    const title = () => document.querySelector('.page-lock-overlay__message')?.textContent;
    expect(title()).toBe('Alice has been editing this page since 10:42 (5 minutes ago)');
    act(() => {
      vi.advanceTimersByTime(2 * MINUTE);
    });
    expect(title()).toBe('Alice has been editing this page since 10:42 (7 minutes ago)');
    act(() => {
      vi.advanceTimersByTime(60 * MINUTE);
    });
    expect(title()).toBe('Alice has been editing this page since 10:42 (1 hour ago)');
  });

  it('stops its timer when hidden', () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'], now: SINCE });
    const { rerender } = render(<Editor lock={lockedByAlice()} />);
    expect(vi.getTimerCount()).toBe(1);
    rerender(<Editor lock={held()} />);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not let Escape dismiss the block', async () => {
    const user = userEvent.setup();
    const { container } = render(<Editor lock={lockedByAlice()} />);
    await user.keyboard('{Escape}');
    expect(screen.getByRole('region')).toBeTruthy();
    expect(contentWrapper(container)?.hasAttribute('inert')).toBe(true);
  });
});

describe('while this user holds the page in another tab', () => {
  it('offers to edit here instead, which takes the lock over', async () => {
    const user = userEvent.setup();
    const lock = lockedBySelf();
    render(<Editor lock={lock} />);
    const dialog = screen.getByRole('region', {
      name: 'You are editing this page in another tab since 10:42 (5 minutes ago)',
    });
    expect(dialog.getAttribute('data-state')).toBe('self');
    expect(screen.queryByRole('button', { name: 'Take over' })).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Edit here instead' }));
    expect(lock.takeOver).toHaveBeenCalledTimes(1);
  });
});

describe('after this tab lost the lock', () => {
  it.each([
    ['taken-over', carol, 'Carol took over this page, so you can no longer edit it.'],
    ['expired', carol, 'Your editing session expired and Carol is editing this page now.'],
    [
      'edited-meanwhile',
      null,
      'Your editing session expired and someone else edited this page meanwhile.',
    ],
    [
      'unreachable',
      null,
      'The connection to the server was lost, so this page is no longer reserved for you.',
    ],
    ['released', null, 'This page was released and is no longer reserved for you.'],
  ] as const)('says what happened when %s', (reason, holder, title) => {
    render(<Editor lock={lost(reason, holder)} />);
    const dialog = screen.getByRole('region', { name: title });
    expect(dialog.getAttribute('data-state')).toBe('lost');
  });

  it('tells the old tab of "Edit here instead" that this user opened the page in another tab', () => {
    render(<Editor lock={{ ...lost('taken-over', me), isSelf: true }} />);
    const dialog = screen.getByRole('region', { name: 'You opened this page in another tab.' });
    expect(dialog.textContent).not.toMatch(/took over/);
    expect(within(dialog).getByRole('button', { name: 'Reload' })).toBeTruthy();
  });

  it('says why the lease ran out when the server refused the refreshes (signed out)', () => {
    const error = new LockAdapterError('http', 'POST answered 401', {
      status: 401,
      code: 'unauthorized',
    });
    render(<Editor lock={{ ...lost('unreachable', null), error }} />);
    const dialog = screen.getByRole('region', {
      name: 'You are not signed in, so this page cannot be reserved for you.',
    });
    expect(within(dialog).getByRole('button', { name: 'Retry' })).toBeTruthy();
  });

  it('keeps the typed text on screen, read-only but selectable, and reloads on request', async () => {
    const user = userEvent.setup();
    const onSave = vi.fn();
    const page = (lock: PageLockState) => (
      <LockOverlay lock={lock}>
        <textarea aria-label="Body" />
        <button type="button" onClick={onSave}>
          Save
        </button>
      </LockOverlay>
    );
    const { container, rerender } = render(page(held()));
    const textarea = screen.getByRole('textbox', { name: 'Body' }) as HTMLTextAreaElement;
    await user.type(textarea, 'my unsaved words');
    rerender(page(lost('taken-over')));

    const dialog = screen.getByRole('region', { name: /^Carol took over this page/ });
    // Not modal and not inert: Chromium cannot select text in inert content.
    expect(dialog.hasAttribute('aria-modal')).toBe(false);
    expect(contentWrapper(container)?.hasAttribute('inert')).toBe(false);
    expect(contentWrapper(container)?.hasAttribute('data-read-only')).toBe(true);
    // It says so: to assistive tech as well as by swallowing what is typed.
    expect(textarea.readOnly).toBe(true);
    expect(screen.getByRole('button', { name: 'Save' }).getAttribute('aria-disabled')).toBe('true');
    // Focus stays in the user's text (Reload would throw it away).
    expect(document.activeElement).toBe(textarea);

    await user.click(textarea);
    expect(document.activeElement).toBe(textarea);
    await user.keyboard('{Control>}a{/Control}');
    expect(textarea.value.slice(textarea.selectionStart, textarea.selectionEnd)).toBe(
      'my unsaved words',
    );
    await user.keyboard('{ArrowRight} and more{Backspace}{Enter}');
    await user.paste('pasted');
    expect(textarea.value).toBe('my unsaved words');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    expect(onSave).not.toHaveBeenCalled();

    expect(screen.queryByRole('button', { name: 'Retry' })).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Reload' }));
    expect(navigation.reload).toHaveBeenCalledTimes(1);
  });

  it('lets a text field wrapped in its label be clicked into, but not typed into', async () => {
    const user = userEvent.setup();
    render(<Editor lock={lost('taken-over')} />);
    const textarea = screen.getByRole('textbox', { name: 'Body' }) as HTMLTextAreaElement;
    await user.click(textarea);
    expect(document.activeElement).toBe(textarea);
    await user.keyboard('typed');
    expect(textarea.value).toBe('');
  });

  it('gives the editor back when the lock comes back (a retry resumed it)', async () => {
    const user = userEvent.setup();
    const { container, rerender } = render(<Editor lock={lost('unreachable', null)} />);
    rerender(<Editor lock={held()} />);
    expect(contentWrapper(container)?.hasAttribute('data-read-only')).toBe(false);
    const textarea = screen.getByRole('textbox', { name: 'Body' }) as HTMLTextAreaElement;
    await user.type(textarea, 'back again');
    expect(textarea.value).toBe('back again');
  });

  it('offers Retry when the server could not be reached', async () => {
    const user = userEvent.setup();
    const lock = lost('unreachable', null);
    render(<Editor lock={lock} />);
    await user.click(screen.getByRole('button', { name: 'Retry' }));
    expect(lock.retry).toHaveBeenCalledTimes(1);
    expect(screen.getByRole('button', { name: 'Reload' })).toBeTruthy();
  });
});

describe('when the server cannot be reached', () => {
  it('says so and offers Retry', async () => {
    const user = userEvent.setup();
    const lock = unreachableError();
    render(<Editor lock={lock} />);
    const dialog = screen.getByRole('region', { name: 'The lock server could not be reached.' });
    expect(dialog.getAttribute('data-state')).toBe('error');
    await user.click(within(dialog).getByRole('button', { name: 'Retry' }));
    expect(lock.retry).toHaveBeenCalledTimes(1);
  });
});

describe('the editor behind the overlay', () => {
  it('keeps its typed text across held → locked → held, inert only while locked', async () => {
    const user = userEvent.setup();
    const { container, rerender } = render(<Editor lock={held()} />);
    const textarea = screen.getByRole('textbox', { name: 'Body' });
    await user.type(textarea, 'draft one');
    rerender(<Editor lock={lockedByAlice()} />);
    expect(contentWrapper(container)?.hasAttribute('inert')).toBe(true);
    rerender(<Editor lock={held()} />);
    expect(contentWrapper(container)?.hasAttribute('inert')).toBe(false);
    expect(screen.getByRole('textbox', { name: 'Body' })).toBe(textarea);
    await user.type(textarea, ', two');
    expect((textarea as HTMLTextAreaElement).value).toBe('draft one, two');
  });
});

describe('focus', () => {
  it('moves from the editor to Go back, is not held there, and returns to the editor afterwards', async () => {
    const user = userEvent.setup();
    const signOut = document.createElement('button');
    signOut.textContent = 'Sign out';
    addToBody(signOut);
    const { rerender } = render(<Editor lock={held()} />);
    const textarea = screen.getByRole('textbox', { name: 'Body' });
    await user.click(textarea);
    rerender(<Editor lock={lockedByAlice({ canTakeOver: true })} />);
    const goBack = screen.getByRole('button', { name: 'Go back' });
    const takeOver = screen.getByRole('button', { name: 'Take over' });
    // The safe button: pressing it by accident discards nobody's work.
    expect(document.activeElement).toBe(goBack);
    await user.tab();
    expect(document.activeElement).toBe(takeOver);
    // No trap: Tab leaves the panel (jsdom ignores inert, so where to is checked in Chromium),
    // and focus elsewhere ("Sign out") is not pulled back.
    await user.tab();
    expect(takeOver.closest('section')?.contains(document.activeElement)).toBe(false);
    signOut.focus();
    rerender(<Editor lock={lockedByAlice({ canTakeOver: true, since: SINCE - MINUTE })} />);
    expect(document.activeElement).toBe(signOut);
    // The block ends while focus is elsewhere: it stays where the user put it.
    rerender(<Editor lock={held()} />);
    expect(document.activeElement).toBe(signOut);

    await user.click(textarea);
    rerender(<Editor lock={lockedByAlice()} />);
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Go back' }));
    rerender(<Editor lock={held()} />);
    expect(document.activeElement).toBe(textarea);
  });

  it('leaves focus elsewhere on the page alone when the block appears', async () => {
    const user = userEvent.setup();
    const headerLink = document.createElement('a');
    headerLink.href = '#pages';
    headerLink.textContent = 'All pages';
    addToBody(headerLink);
    const { rerender } = render(<Editor lock={held()} />);
    await user.click(headerLink);
    expect(document.activeElement).toBe(headerLink);
    rerender(<Editor lock={lockedByAlice()} />);
    expect(document.activeElement).toBe(headerLink);
  });

  it('returns focus to the editor under StrictMode too', async () => {
    const user = userEvent.setup();
    const { rerender } = render(<Editor lock={held()} />, { wrapper: StrictMode });
    const textarea = screen.getByRole('textbox', { name: 'Body' });
    await user.click(textarea);
    rerender(<Editor lock={lockedByAlice()} />);
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Go back' }));
    rerender(<Editor lock={held()} />);
    expect(document.activeElement).toBe(textarea);
  });

  it('brings focus back to the safe button when the buttons change under it', () => {
    const { rerender } = render(<Editor lock={lockedByAlice({ canTakeOver: true })} />);
    screen.getByRole('button', { name: 'Take over' }).focus();
    rerender(<Editor lock={unreachableError()} />);
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Retry' }));
  });

  it('moves no focus when the lock is lost: the user may be copying their text', async () => {
    const user = userEvent.setup();
    const { rerender } = render(<Editor lock={held()} />);
    const textarea = screen.getByRole('textbox', { name: 'Body' });
    await user.click(textarea);
    rerender(<Editor lock={lost('taken-over')} />);
    expect(document.activeElement).toBe(textarea);
  });
});

/** Alice's and Bob's editors, each under its own overlay; Bob's opens second. */
function TwoEditors(props: { alices: PageLockState; bobs?: PageLockState }) {
  return (
    <>
      <section aria-label="Alice's tab">
        <Editor lock={props.alices} />
      </section>
      {props.bobs && (
        <section aria-label="Bob's tab">
          <Editor lock={props.bobs} />
        </section>
      )}
    </>
  );
}

/** The dialog buttons inside one tab's region. */
const buttonsIn = (tab: string) => {
  const panel = within(screen.getByRole('region', { name: tab }));
  return {
    goBack: panel.getByRole('button', { name: 'Go back' }),
    takeOver: panel.queryByRole('button', { name: 'Take over' }),
  };
};

describe('two blocking overlays in one page (two editors side by side)', () => {
  it('do not fight over focus: the newer one leaves focus in the older one alone', async () => {
    const user = userEvent.setup();
    const alices = lockedByAlice({ canTakeOver: true });
    const { rerender } = render(<TwoEditors alices={alices} />, { wrapper: StrictMode });
    const alicesButtons = buttonsIn("Alice's tab");
    alicesButtons.takeOver?.focus();

    // Two focus traps that each pulled focus into their own panel overflowed the stack once.
    rerender(<TwoEditors alices={alices} bobs={lockedByAlice({ canTakeOver: true })} />);
    const bobsButtons = buttonsIn("Bob's tab");
    expect(document.activeElement).toBe(alicesButtons.takeOver);
    bobsButtons.goBack.focus();
    await user.tab({ shift: true });
    expect(document.activeElement).not.toBe(bobsButtons.goBack);
    alicesButtons.goBack.focus();
    rerender(<TwoEditors alices={alices} bobs={lockedByAlice()} />);
    expect(document.activeElement).toBe(alicesButtons.goBack);

    bobsButtons.goBack.focus();
    rerender(<TwoEditors alices={alices} />);
    expect(screen.queryByRole('region', { name: "Bob's tab" })).toBeNull();
    // Focus that went down with Bob's panel goes back to where it was before his block.
    expect(document.activeElement).toBe(alicesButtons.takeOver);
  });

  it('lets a lost lock opened last leave its editor selectable, the older block still inert', async () => {
    const user = userEvent.setup();
    const { rerender } = render(<TwoEditors alices={lockedByAlice()} />);
    rerender(<TwoEditors alices={lockedByAlice()} bobs={lost('taken-over')} />);
    const bobsTab = within(screen.getByRole('region', { name: "Bob's tab" }));
    const bobsText = bobsTab.getByRole('textbox', { name: 'Body' });
    await user.click(bobsText);
    expect(document.activeElement).toBe(bobsText);
    const alicesText = within(screen.getByRole('region', { name: "Alice's tab" })).getByRole(
      'textbox',
      { name: 'Body', hidden: true },
    );
    expect(alicesText.closest('[inert]')).not.toBeNull();
  });
});

/** An editor with a field of each kind. */
function RichEditor(props: { lock: PageLockState }) {
  return (
    <LockOverlay lock={props.lock}>
      <input aria-label="Title" defaultValue="Contact" />
      <input aria-label="Slug" defaultValue="contact" readOnly />
      <input type="checkbox" aria-label="Published" />
      <select aria-label="Layout">
        <option>Wide</option>
      </select>
      {/* biome-ignore lint/a11y/useSemanticElements: a rich text editor, as apps build them */}
      {/* biome-ignore lint/a11y/useFocusableInteractive: contenteditable makes it focusable */}
      <div contentEditable suppressContentEditableWarning role="textbox" aria-label="Body">
        Opening hours
      </div>
      <button type="submit">Save</button>
    </LockOverlay>
  );
}

/** The parts in an order of one's own: the panel first, a custom button among the actions. */
function Composed(props: { lock: PageLockState }) {
  return (
    <LockOverlayRoot lock={props.lock} locale="en-GB" timeZone="UTC" className="mine">
      <LockOverlayPanel className="my-panel">
        <LockOverlayTitle />
        <LockOverlayDescription>Ask Alice on chat.</LockOverlayDescription>
        <LockOverlayActions />
        <HolderLine />
      </LockOverlayPanel>
      <LockOverlayContent className="my-editor">
        <textarea aria-label="Body" />
      </LockOverlayContent>
    </LockOverlayRoot>
  );
}
function HolderLine() {
  const view = useLockOverlay();
  return view?.holder ? <p data-testid="holder">{view.holder.name}</p> : null;
}

describe('a lost editor says it is read-only', () => {
  it('marks its fields readonly / aria-readonly and its buttons aria-disabled, and gives all back', () => {
    const { rerender } = render(<RichEditor lock={held()} />);
    const title = screen.getByRole('textbox', { name: 'Title' }) as HTMLInputElement;
    const slug = screen.getByRole('textbox', { name: 'Slug' }) as HTMLInputElement;
    const published = screen.getByRole('checkbox', { name: 'Published' });
    const layout = screen.getByRole('combobox', { name: 'Layout' });
    const body = screen.getByRole('textbox', { name: 'Body' });
    const save = screen.getByRole('button', { name: 'Save' });

    rerender(<RichEditor lock={lost('taken-over')} />);
    expect(title.readOnly).toBe(true);
    expect(published.getAttribute('aria-readonly')).toBe('true');
    expect(layout.getAttribute('aria-readonly')).toBe('true');
    expect(body.getAttribute('aria-readonly')).toBe('true');
    expect(body.getAttribute('contenteditable')).toBe('true');
    expect(save.getAttribute('aria-disabled')).toBe('true');
    // Not inert: its text can still be selected and copied.
    expect(body.closest('[inert]')).toBeNull();

    rerender(<RichEditor lock={held()} />);
    expect(title.readOnly).toBe(false);
    expect(slug.readOnly).toBe(true);
    for (const element of [published, layout, body]) {
      expect(element.hasAttribute('aria-readonly')).toBe(false);
    }
    expect(save.hasAttribute('aria-disabled')).toBe(false);
  });

  it('swallows typing into a contenteditable and clicks on its controls', async () => {
    const user = userEvent.setup();
    render(<RichEditor lock={lost('expired')} />);
    const published = screen.getByRole('checkbox', { name: 'Published' }) as HTMLInputElement;
    await user.click(published);
    expect(published.checked).toBe(false);
    const body = screen.getByRole('textbox', { name: 'Body' });
    const typed = new InputEvent('beforeinput', {
      inputType: 'insertText',
      data: 'x',
      cancelable: true,
      bubbles: true,
    });
    body.dispatchEvent(typed);
    expect(typed.defaultPrevented).toBe(true);
  });
});

describe('the named parts', () => {
  it('wires ids, data-state and class names as the ready-made overlay does', () => {
    const { container, rerender } = render(<Composed lock={lockedByAlice()} />);
    const panel = screen.getByRole('region', {
      name: /^Alice has been editing this page since 10:42/,
    });
    expect(panel).toHaveProperty('className', 'page-lock-overlay__panel my-panel');
    expect(panel.getAttribute('data-state')).toBe('locked');
    expect(document.getElementById(panel.getAttribute('aria-describedby') ?? '')?.textContent).toBe(
      'Ask Alice on chat.',
    );
    expect(screen.getByTestId('holder').textContent).toBe('Alice');
    const content = container.querySelector('.my-editor');
    expect(content?.className).toBe('page-lock-overlay__content my-editor');
    expect(content?.hasAttribute('inert')).toBe(true);
    expect(container.firstElementChild?.className).toBe('page-lock-overlay mine');

    const textarea = screen.getByRole('textbox', { name: 'Body', hidden: true });
    rerender(<Composed lock={held()} />);
    expect(screen.queryByRole('region')).toBeNull();
    expect(container.querySelector('.my-editor')?.getAttribute('data-state')).toBe('hidden');
    // The editor is the same element: it never remounts.
    expect(screen.getByRole('textbox', { name: 'Body' })).toBe(textarea);
  });

  it('says what to add when a part is used outside a root', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(() => render(<LockOverlayTitle />)).toThrow(
      '[page-lock] LockOverlayTitle must be inside <LockOverlayRoot> (or <LockOverlay>).',
    );
    vi.mocked(console.error).mockRestore();
  });
});

describe('announcements', () => {
  it('announces each state once, without the ticking relative time, and editing again', () => {
    const { container, rerender } = render(<Editor lock={held()} />);
    const live = container.querySelector('[aria-live="polite"]');
    expect(live?.textContent).toBe('');
    rerender(<Editor lock={lockedByAlice()} />);
    expect(live?.textContent).toBe('Alice has been editing this page since 10:42');
    rerender(<Editor lock={held()} />);
    expect(live?.textContent).toBe('You can edit this page now.');
  });
});

describe('messages', () => {
  const german: Partial<LockOverlayMessages> = {
    lockedBy: ({ name, time, relative }) =>
      `${name} bearbeitet diese Seite seit ${time} Uhr (${relative})`,
    lockedDescription: () => 'Bitte warten Sie, bis die Seite frei ist.',
    goBack: 'Zurück',
    takeOver: 'Übernehmen',
    avatarAlt: ({ name }) => `Profilbild von ${name}`,
  };

  it('replaces every word given, and formats times in the locale', () => {
    render(
      <LockOverlay
        lock={lockedByAlice({ canTakeOver: true })}
        messages={german}
        locale="de-DE"
        timeZone="UTC"
      />,
    );
    screen.getByRole('dialog', {
      name: 'Alice bearbeitet diese Seite seit 10:42 Uhr (vor 5 Minuten)',
    });
    expect(screen.getAllByRole('button').map((button) => button.textContent)).toEqual([
      'Zurück',
      'Übernehmen',
    ]);
    expect(screen.getByRole('img', { name: 'Profilbild von Alice' })).toBeTruthy();
    expect(screen.getByText('Bitte warten Sie, bis die Seite frei ist.')).toBeTruthy();
  });
});

describe('render props', () => {
  it('replaces the avatar, message, description and actions, keeping the dialog wiring', async () => {
    const user = userEvent.setup();
    const lock = lockedByAlice({ canTakeOver: true });
    render(
      <Editor
        lock={lock}
        renderAvatar={(holder) => <span className="initials">{holder.name.slice(0, 1)}</span>}
        renderMessage={(view) => <strong>{`${view.words.name} is in (${view.state})`}</strong>}
        renderDescription={(view) => `Since ${view.words.time}`}
        renderActions={(view) =>
          view.actions.map((action) => (
            <button key={action.id} type="button" onClick={action.run}>
              {action.label.toUpperCase()}
            </button>
          ))
        }
      />,
    );
    const dialog = screen.getByRole('region', { name: 'Alice is in (locked)' });
    expect(dialog.querySelector('.initials')?.textContent).toBe('A');
    expect(dialog.querySelector('img')).toBeNull();
    expect(screen.getByText('Since 10:42')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'TAKE OVER' }));
    expect(lock.takeOver).toHaveBeenCalledTimes(1);
  });
});

describe('blockEditing={false}', () => {
  it('shows a notice beside a usable editor', async () => {
    const user = userEvent.setup();
    const { container } = render(<Editor lock={lockedByAlice()} blockEditing={false} />);
    expect(screen.queryByRole('dialog')).toBeNull();
    const notice = screen.getByRole('status', {
      name: 'Alice has been editing this page since 10:42 (5 minutes ago)',
    });
    expect(notice.getAttribute('data-state')).toBe('locked');
    expect(contentWrapper(container)?.hasAttribute('inert')).toBe(false);
    const textarea = screen.getByRole('textbox', { name: 'Body' });
    await user.type(textarea, 'still typing');
    expect(document.activeElement).toBe(textarea);
    expect((textarea as HTMLTextAreaElement).value).toBe('still typing');
  });
});

describe('time formatting', () => {
  const utc = { locale: 'en-GB', timeZone: 'UTC' };

  it('counts whole units, and reads a holder from the future (clock skew) as now', () => {
    expect(formatRelativeTime(SINCE, SINCE, utc)).toBe('now');
    expect(formatRelativeTime(SINCE, SINCE + 59_000, utc)).toBe('59 seconds ago');
    expect(formatRelativeTime(SINCE, SINCE + 6 * MINUTE - 1, utc)).toBe('5 minutes ago');
    expect(formatRelativeTime(SINCE, SINCE + 25 * 60 * MINUTE, utc)).toBe('yesterday');
    expect(formatRelativeTime(SINCE + MINUTE, SINCE, utc)).toBe('now');
  });

  it('adds the date when the holder started on another day', () => {
    expect(formatClockTime(SINCE, SINCE + 60 * MINUTE, utc)).toBe('10:42');
    expect(formatClockTime(SINCE, SINCE + 24 * 60 * MINUTE, utc)).toBe('26 Nov, 10:42');
  });
});

describe('server rendering', () => {
  it('renders the wrapper and the editor, no overlay, and nothing for the page overlay', () => {
    const html = renderToString(<Editor lock={lockState({ status: 'idle' })} />);
    expect(html).toContain('class="page-lock-overlay__content"');
    expect(html).toContain('<textarea');
    expect(html).not.toContain('inert');
    expect(renderToString(<LockOverlay lock={lockedByAlice()} />)).toBe('');
  });
});

describe('without children', () => {
  it('shows a notice and makes nothing inert with blockEditing={false}', () => {
    render(<LockOverlay lock={lockedByAlice()} blockEditing={false} />);
    expect(screen.getByRole('status', { name: /^Alice has been editing/ })).toBeTruthy();
    expect(document.querySelectorAll('[inert]')).toHaveLength(0);
  });

  it('blocks the page with a modal <dialog> opened with showModal(), portalled into <body>', () => {
    // jsdom has no showModal (nor the top layer, nor inertness): what the browser then does is
    // checked in Chromium (the WholePage story).
    const showModal = vi.fn(function (this: HTMLDialogElement) {
      this.open = true;
    });
    const close = vi.fn(function (this: HTMLDialogElement) {
      this.open = false;
    });
    Object.assign(HTMLDialogElement.prototype, { showModal, close });
    try {
      const app = document.createElement('main');
      addToBody(app);
      const { rerender, unmount } = render(<LockOverlay lock={lockedByAlice()} />, {
        container: app,
      });
      const root = document.querySelector('.page-lock-overlay');
      expect(root?.parentElement).toBe(document.body);
      expect(root?.getAttribute('data-scope')).toBe('page');
      const dialog = screen.getByRole('dialog', { name: /^Alice has been editing this page/ });
      expect(dialog.tagName).toBe('DIALOG');
      expect(showModal).toHaveBeenCalledTimes(1);
      expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Go back' }));
      // The platform makes the rest inert; nothing is changed by hand.
      expect(app.hasAttribute('inert')).toBe(false);

      rerender(<LockOverlay lock={held()} />);
      expect(close).toHaveBeenCalledTimes(1);
      expect(screen.queryByRole('dialog')).toBeNull();
      rerender(<LockOverlay lock={lockedByAlice()} />);
      unmount();
      expect(close).toHaveBeenCalledTimes(2);
      expect(document.querySelector('.page-lock-overlay')).toBeNull();
    } finally {
      Reflect.deleteProperty(HTMLDialogElement.prototype, 'showModal');
      Reflect.deleteProperty(HTMLDialogElement.prototype, 'close');
    }
  });

  it('does not let Escape dismiss the block, and opens again when closed anyway', () => {
    render(<LockOverlay lock={lockedByAlice()} />);
    const dialog = screen.getByRole('dialog') as HTMLDialogElement;
    // Without showModal (jsdom, as in many apps' own tests) the dialog is simply open.
    expect(dialog.open).toBe(true);
    expect(dialog.getAttribute('closedby')).toBe('none');
    const escapeKey = new Event('cancel', { cancelable: true });
    dialog.dispatchEvent(escapeKey);
    expect(escapeKey.defaultPrevented).toBe(true);
    // A second Escape without a click in between closes a dialog in Chromium, uncancellably.
    dialog.open = false;
    act(() => {
      dialog.dispatchEvent(new Event('close'));
    });
    expect(dialog.open).toBe(true);
  });
});

describe('without children, after a lost lock', () => {
  it('guards the rest of the page read-only instead of making it inert', async () => {
    const user = userEvent.setup();
    const app = document.createElement('main');
    const field = document.createElement('textarea');
    field.setAttribute('aria-label', 'Body');
    app.append(field);
    addToBody(app);
    const { unmount } = render(<LockOverlay lock={lost('expired')} />);
    expect(screen.getByRole('region', { name: /^Your editing session expired/ })).toBeTruthy();
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(app.hasAttribute('inert')).toBe(false);
    expect(app.hasAttribute('data-read-only')).toBe(true);
    expect(field.readOnly).toBe(true);
    await user.type(field, 'nope');
    expect(field.value).toBe('');
    unmount();
    expect(app.hasAttribute('data-read-only')).toBe(false);
    expect(field.readOnly).toBe(false);
    await user.type(field, 'yes');
    expect(field.value).toBe('yes');
  });
});

describe('styling hooks', () => {
  it('names its parts and adds className to the root', () => {
    const { container } = render(<Editor lock={lockedByAlice()} className="mine" />);
    const root = container.firstElementChild;
    expect(root?.className).toBe('page-lock-overlay mine');
    expect(root?.getAttribute('data-state')).toBe('locked');
    for (const part of ['backdrop', 'panel', 'message', 'description', 'actions', 'button']) {
      expect(
        container.querySelector(`.page-lock-overlay__${part}`)?.getAttribute('data-state'),
      ).toBe('locked');
    }
  });
});

describe('accessibility (axe-core)', () => {
  // jsdom has no layout or computed colours: contrast is checked in Chromium (Storybook).
  const options: axe.RunOptions = { rules: { 'color-contrast': { enabled: false } } };

  it.each([
    ['locked', () => lockedByAlice({ canTakeOver: true }), true],
    ['self', lockedBySelf, true],
    ['lost', () => lost('taken-over'), true],
    ['lost (unreachable)', () => lost('unreachable', null), true],
    ['error', unreachableError, true],
    [
      'checking',
      () => lockState({ status: 'acquiring', isChecking: true, isOwner: false, token: null }),
      true,
    ],
    ['notice', () => lockedByAlice(), false],
    ['held', held, true],
  ] as const)('has no violations when %s', async (_name, makeLock, blockEditing) => {
    const { container } = render(
      <main>
        <h1>Edit page</h1>
        <Editor lock={makeLock()} blockEditing={blockEditing} />
      </main>,
    );
    const results = await axe.run(container, options);
    expect(results.violations.map((violation) => `${violation.id}: ${violation.help}`)).toEqual([]);
  });
});

describe('inside <PageLockProvider resourceId>', () => {
  const bob: LockUser = { id: 'u-bob', name: 'Bob' };

  async function aliceHoldsPage42() {
    const server = createMemoryLockServer();
    const aliceAdapter = createMemoryLockAdapter({ user: alice, server });
    const answer = await aliceAdapter.acquire('page:42', { clientId: 'alice-tab' });
    expect(answer.status).toBe('held');
    return createMemoryLockAdapter({ user: bob, server });
  }

  it("shows the provider's lock without a lock prop", async () => {
    const bobAdapter = await aliceHoldsPage42();
    const { container } = render(
      <PageLockProvider adapter={bobAdapter} resourceId="page:42" clientId="bob-tab" user={bob}>
        <LockOverlay>
          <textarea aria-label="Body" />
        </LockOverlay>
      </PageLockProvider>,
    );
    const dialog = await screen.findByRole('region', {
      name: /^Alice has been editing this page since .+ \((?:\d+ seconds? ago|now)\)$/,
    });
    expect(dialog.getAttribute('data-state')).toBe('locked');
    expect(contentWrapper(container)?.hasAttribute('inert')).toBe(true);
  });

  it("follows the provider's blockEditing={false}", async () => {
    const bobAdapter = await aliceHoldsPage42();
    const { container } = render(
      <PageLockProvider
        adapter={bobAdapter}
        resourceId="page:42"
        clientId="bob-tab"
        user={bob}
        blockEditing={false}
      >
        <LockOverlay>
          <textarea aria-label="Body" />
        </LockOverlay>
      </PageLockProvider>,
    );
    const notice = await screen.findByRole('status', { name: /^Alice has been editing/ });
    expect(notice.getAttribute('data-state')).toBe('locked');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(contentWrapper(container)?.hasAttribute('inert')).toBe(false);
  });

  it('lets this user edit here instead of in their other tab', async () => {
    const user = userEvent.setup();
    const server = createMemoryLockServer();
    const aliceAdapter = createMemoryLockAdapter({ user: alice, server });
    const firstTab = await aliceAdapter.acquire('page:42', { clientId: 'alice-tab-1' });
    if (firstTab.status !== 'held') throw new Error(`expected held, got ${firstTab.status}`);
    const { container } = render(
      <PageLockProvider
        adapter={aliceAdapter}
        resourceId="page:42"
        clientId="alice-tab-2"
        user={alice}
      >
        <LockOverlay>
          <textarea aria-label="Body" />
        </LockOverlay>
      </PageLockProvider>,
    );
    await screen.findByRole('region', { name: /^You are editing this page in another tab/ });
    await user.click(screen.getByRole('button', { name: 'Edit here instead' }));
    await vi.waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(contentWrapper(container)?.hasAttribute('inert')).toBe(false);
    const firstTabAgain = await aliceAdapter.acquire('page:42', {
      clientId: 'alice-tab-1',
      token: firstTab.token,
    });
    expect(firstTabAgain).toMatchObject({ status: 'lost', reason: 'taken-over' });
  });
});
