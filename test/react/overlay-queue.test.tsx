import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LockAdapterError } from '../../src/core/adapter';
import { setNavigation } from '../../src/core/navigation';
import type { LockUser, Waiter } from '../../src/protocol/protocol';
import {
  defaultLockOverlayMessages,
  LockOverlay,
  LockOverlayAsk,
  LockOverlayContent,
  LockOverlayHolderPrompt,
  LockOverlayIdleWarning,
  type LockOverlayMessages,
  LockOverlayPanel,
  LockOverlayRoot,
  LockOverlayTitle,
} from '../../src/react/overlay';
import type { PageLockState } from '../../src/react/types';
import { lockState, MINUTE, me, SINCE, serverOffset } from './overlay-lock-state';

const alice: LockUser = { id: 'u-alice', name: 'Alice' };
const bob: LockUser = { id: 'u-bob', name: 'Bob' };
const carol: LockUser = { id: 'u-carol', name: 'Carol' };

const serverNow = () => Date.now() + serverOffset();

const blockedByAlice = (overrides: Partial<PageLockState> = {}) =>
  lockState({
    status: 'locked',
    holder: alice,
    isOwner: false,
    token: null,
    fence: null,
    canAsk: true,
    ...overrides,
  });

const waiter = (user: LockUser, overrides: Partial<Waiter> = {}): Waiter => ({
  id: `w-${user.id}`,
  user,
  askedAt: SINCE + MINUTE,
  request: 'pending',
  requestExpiresAt: SINCE + 3 * MINUTE,
  ...overrides,
});

const heldWith = (requests: Waiter[], overrides: Partial<PageLockState> = {}) =>
  lockState({ requests, ...overrides });

/** The overlay around an uncontrolled editor, times in en-GB/UTC. */
function Editor(props: { lock: PageLockState; messages?: Partial<LockOverlayMessages> }) {
  return (
    <LockOverlay locale="en-GB" timeZone="UTC" lock={props.lock} messages={props.messages}>
      <label>
        Body
        <textarea defaultValue="" />
      </label>
    </LockOverlay>
  );
}

const liveRegion = (container: HTMLElement) =>
  container.querySelector<HTMLElement>('[aria-live="polite"]');

let restoreNavigation: () => void;
beforeEach(() => {
  restoreNavigation = setNavigation({ reload: vi.fn(), back: vi.fn() });
});
afterEach(() => {
  restoreNavigation();
  cleanup();
  vi.useRealTimers();
});

describe('a blocked tab that may ask to edit', () => {
  it('offers Ask to edit with a labelled, optional note of at most 200 characters', async () => {
    const user = userEvent.setup();
    const lock = blockedByAlice();
    render(<Editor lock={lock} />);
    const panel = screen.getByRole('region', { name: /^Alice has been editing this page/ });
    expect(panel).toHaveProperty(
      'textContent',
      expect.stringContaining('You can ask them to hand it over'),
    );
    const note = within(panel).getByRole('textbox', { name: 'Note for Alice (optional)' });
    expect(note.getAttribute('maxlength')).toBe('200');
    await user.type(note, '  Can I fix the opening hours?  ');
    await user.click(within(panel).getByRole('button', { name: 'Ask to edit' }));
    expect(lock.ask).toHaveBeenCalledExactlyOnceWith('Can I fix the opening hours?');
  });

  it('asks without a note when none is written', async () => {
    const user = userEvent.setup();
    const lock = blockedByAlice();
    render(<Editor lock={lock} />);
    await user.click(screen.getByRole('button', { name: 'Ask to edit' }));
    expect(lock.ask).toHaveBeenCalledExactlyOnceWith(undefined);
  });

  it('offers nothing of it when the server has no line (canAsk false) and nobody waits', () => {
    render(<Editor lock={blockedByAlice({ canAsk: false })} />);
    expect(screen.queryByRole('button', { name: 'Ask to edit' })).toBeNull();
    expect(screen.queryByRole('textbox', { name: /Note/ })).toBeNull();
    expect(document.querySelector('.page-lock-overlay__ask')).toBeNull();
  });

  it('offers nothing of it to this user blocked by their own other tab', () => {
    render(
      <Editor lock={blockedByAlice({ holder: me, isSelf: true, canAsk: false, waiting: 2 })} />,
    );
    expect(screen.queryByRole('button', { name: 'Ask to edit' })).toBeNull();
    expect(screen.queryByText(/waiting/)).toBeNull();
  });

  it.each([
    [1, '1 person is waiting to edit this page.'],
    [3, '3 people are waiting to edit this page.'],
  ])('says that %i others wait when this tab is not in line', (waiting, words) => {
    render(<Editor lock={blockedByAlice({ waiting })} />);
    expect(screen.getByRole('status').textContent).toBe(words);
    expect(screen.getByRole('button', { name: 'Ask to edit' })).toBeTruthy();
  });

  it('says who waits even when this tab cannot ask', () => {
    render(<Editor lock={blockedByAlice({ canAsk: false, waiting: 2 })} />);
    expect(screen.getByRole('status').textContent).toBe('2 people are waiting to edit this page.');
    expect(screen.queryByRole('button', { name: 'Ask to edit' })).toBeNull();
    expect(document.querySelector('.page-lock-overlay__ask')?.getAttribute('data-ask-state')).toBe(
      'none',
    );
  });

  it('says when the line is full', async () => {
    const user = userEvent.setup();
    const lock = blockedByAlice({ waiting: 50 });
    const { rerender } = render(<Editor lock={lock} />);
    await user.click(screen.getByRole('button', { name: 'Ask to edit' }));
    const error = new LockAdapterError('http', 'POST answered 409', {
      status: 409,
      code: 'queue-full',
    });
    rerender(<Editor lock={{ ...lock, error }} />);
    expect(screen.getByRole('status').textContent).toMatch(
      /Too many people are waiting for this page\. Try again later\.$/,
    );
  });
});

describe('a blocked tab in line', () => {
  const inLine = (overrides: Partial<PageLockState>) =>
    blockedByAlice({ place: 1, askState: 'pending', waiting: 1, ...overrides });

  it.each([
    [1, 'You are next'],
    [2, '2nd in line'],
    [3, '3rd in line'],
    [4, '4th in line'],
    [11, '11th in line'],
    [12, '12th in line'],
    [21, '21st in line'],
    [22, '22nd in line'],
    [23, '23rd in line'],
  ])('says its place %i as "%s"', (place, words) => {
    render(<Editor lock={inLine({ place })} />);
    expect(within(screen.getByRole('status')).getByText(words)).toBeTruthy();
  });

  it('says the page comes to it, not that the page reloads', () => {
    render(<Editor lock={inLine({})} />);
    const panel = screen.getByRole('region', { name: /^Alice has been editing this page/ });
    const description = document.getElementById(panel.getAttribute('aria-describedby') ?? '');
    expect(description?.textContent).toBe(
      'You get the page when Alice hands it over or leaves. You can also go back.',
    );
  });

  it.each([
    ['sending', null, 'Asking Alice…'],
    ['pending', 2, 'Waiting for Alice to answer'],
    ['declined', 2, 'Alice is still editing'],
    ['lapsed', 2, 'Alice did not answer'],
  ] as const)('says what became of its request when %s', (askState, place, words) => {
    render(<Editor lock={inLine({ askState, place })} />);
    const status = screen.getByRole('status');
    expect(within(status).getByText(words)).toBeTruthy();
    // No note field and no Ask to edit while in line; the line is left with a button.
    expect(screen.queryByRole('textbox', { name: /Note/ })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Ask to edit' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Leave the line' })).toBeTruthy();
  });

  it('leaves the line on request', async () => {
    const user = userEvent.setup();
    const lock = inLine({ place: 2 });
    render(<Editor lock={lock} />);
    await user.click(screen.getByRole('button', { name: 'Leave the line' }));
    expect(lock.leaveQueue).toHaveBeenCalledOnce();
  });

  it.each(['declined', 'lapsed'] as const)('offers to ask again when %s', async (askState) => {
    const user = userEvent.setup();
    const lock = inLine({ askState });
    render(<Editor lock={lock} />);
    await user.click(screen.getByRole('button', { name: 'Ask again' }));
    expect(lock.ask).toHaveBeenCalledOnce();
  });

  it('offers no Ask again while the request waits for an answer', () => {
    render(<Editor lock={inLine({ askState: 'pending' })} />);
    expect(screen.queryByRole('button', { name: 'Ask again' })).toBeNull();
  });

  it('does not say how many others wait: its place says it', () => {
    render(<Editor lock={inLine({ place: 3, waiting: 3 })} />);
    expect(screen.queryByText(/people are waiting/)).toBeNull();
  });

  it('announces its place in a polite status as the line moves up', () => {
    const { rerender } = render(<Editor lock={inLine({ place: 2 })} />);
    const status = screen.getByRole('status');
    expect(status.textContent).toBe('2nd in lineWaiting for Alice to answer');
    rerender(<Editor lock={inLine({ place: 1 })} />);
    // The same element: a live region announces changes, not its first content.
    expect(screen.getByRole('status')).toBe(status);
    expect(status.textContent).toBe('You are nextWaiting for Alice to answer');
  });

  it('keeps focus in the panel when Ask to edit makes way for Leave the line, and back', async () => {
    const user = userEvent.setup();
    const lock = blockedByAlice();
    const { rerender } = render(<Editor lock={lock} />);
    await user.click(screen.getByRole('button', { name: 'Ask to edit' }));
    rerender(<Editor lock={{ ...lock, askState: 'sending' }} />);
    const leave = screen.getByRole('button', { name: 'Leave the line' });
    expect(document.activeElement).toBe(leave);
    await user.click(leave);
    rerender(<Editor lock={lock} />);
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Ask to edit' }));
  });

  it('focuses Go back, not the ask, when the block appears', async () => {
    const user = userEvent.setup();
    const { rerender } = render(<Editor lock={lockState()} />);
    await user.click(screen.getByRole('textbox', { name: 'Body' }));
    rerender(<Editor lock={blockedByAlice()} />);
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Go back' }));
  });
});

describe('the holder, while others ask to edit', () => {
  const requests = () => [waiter(bob, { message: 'Can I fix the typo?' }), waiter(carol)];

  it('asks in a labelled region that is not modal and leaves the editor usable', async () => {
    const user = userEvent.setup();
    const { container, rerender } = render(<Editor lock={heldWith([])} />);
    const textarea = screen.getByRole('textbox', { name: 'Body' });
    await user.click(textarea);
    await user.type(textarea, 'draft');
    rerender(<Editor lock={heldWith(requests())} />);

    const prompt = screen.getByRole('region', { name: 'Bob asks to edit this page' });
    expect(prompt.tagName).toBe('SECTION');
    expect(prompt.getAttribute('data-state')).toBe('asked');
    expect(prompt.hasAttribute('aria-modal')).toBe(false);
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(container.querySelector('[aria-modal], dialog, [inert]')).toBeNull();
    expect(within(prompt).getByText('“Can I fix the typo?”')).toBeTruthy();
    expect(within(prompt).getByText('Bob and Carol are waiting')).toBeTruthy();
    // It takes no focus and traps none: typing goes on in the editor.
    expect(document.activeElement).toBe(textarea);
    await user.type(textarea, ' goes on');
    expect((textarea as HTMLTextAreaElement).value).toBe('draft goes on');
    expect(textarea.hasAttribute('readonly')).toBe(false);
    // Announced politely, once.
    expect(liveRegion(container)?.textContent).toBe('Bob asks to edit this page');
  });

  it('hands over to the one who asks, or keeps editing (declines)', async () => {
    const user = userEvent.setup();
    const lock = heldWith(requests());
    render(<Editor lock={lock} />);
    const prompt = screen.getByRole('region', { name: 'Bob asks to edit this page' });
    await user.click(within(prompt).getByRole('button', { name: 'Keep editing' }));
    expect(lock.decline).toHaveBeenCalledExactlyOnceWith('w-u-bob');
    await user.click(within(prompt).getByRole('button', { name: 'Hand over' }));
    expect(lock.handOver).toHaveBeenCalledExactlyOnceWith('w-u-bob');
  });

  it('asks about the first pending request, naming everyone in line', () => {
    render(
      <Editor
        lock={heldWith([waiter(bob, { request: 'declined' }), waiter(carol), waiter(alice)])}
      />,
    );
    const prompt = screen.getByRole('region', { name: 'Carol asks to edit this page' });
    expect(within(prompt).getByText('Bob, Carol and Alice are waiting')).toBeTruthy();
  });

  it('with nobody asking, says who waits and offers to hand over to the first', async () => {
    const user = userEvent.setup();
    const lock = heldWith([
      waiter(bob, { request: 'declined' }),
      waiter(carol, { request: 'lapsed' }),
    ]);
    render(<Editor lock={lock} />);
    const prompt = screen.getByRole('region', { name: 'Bob and Carol are waiting' });
    expect(prompt.getAttribute('data-state')).toBe('waiting');
    expect(within(prompt).queryByRole('button', { name: 'Keep editing' })).toBeNull();
    await user.click(within(prompt).getByRole('button', { name: 'Hand over' }));
    expect(lock.handOver).toHaveBeenCalledExactlyOnceWith('w-u-bob');
  });

  it('does not repeat the name of a single asker as "is waiting"', () => {
    render(<Editor lock={heldWith([waiter(bob)])} />);
    const prompt = screen.getByRole('region', { name: 'Bob asks to edit this page' });
    expect(prompt.textContent).not.toMatch(/waiting/);
  });

  it('hands over once even when clicked twice, waiting while onHandOver runs', async () => {
    const user = userEvent.setup();
    let finish = () => {};
    const handOver = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)));
    render(<Editor lock={heldWith([waiter(bob)], { handOver })} />);
    const button = screen.getByRole('button', { name: 'Hand over' });
    await user.click(button);
    await user.click(button);
    expect(handOver).toHaveBeenCalledOnce();
    expect(button.getAttribute('aria-disabled')).toBe('true');
    await act(async () => finish());
    expect(button.hasAttribute('aria-disabled')).toBe(false);
  });

  it('says when the hand-over failed (onHandOver threw): the tab still holds the page', async () => {
    const user = userEvent.setup();
    const lock = heldWith([waiter(bob)]);
    const { rerender } = render(<Editor lock={lock} />);
    await user.click(screen.getByRole('button', { name: 'Hand over' }));
    rerender(<Editor lock={{ ...lock, error: new Error('draft could not be saved') }} />);
    const prompt = screen.getByRole('region', { name: 'Bob asks to edit this page' });
    expect(within(prompt).getByRole('status').textContent).toBe(
      'The page could not be handed over. Try again.',
    );
  });

  it('shows nothing to a tab that does not hold the page', () => {
    render(<Editor lock={blockedByAlice({ requests: [waiter(bob)] })} />);
    expect(screen.queryByRole('region', { name: /asks to edit/ })).toBeNull();
  });

  it('works as a part of its own inside a composed root', async () => {
    const user = userEvent.setup();
    const lock = heldWith([waiter(bob)]);
    render(
      <LockOverlayRoot lock={lock}>
        <LockOverlayHolderPrompt className="my-prompt" />
        <LockOverlayContent>
          <textarea aria-label="Body" />
        </LockOverlayContent>
      </LockOverlayRoot>,
    );
    const prompt = screen.getByRole('region', { name: 'Bob asks to edit this page' });
    expect(prompt.className).toBe('page-lock-overlay__prompt my-prompt');
    await user.click(within(prompt).getByRole('button', { name: 'Hand over' }));
    expect(lock.handOver).toHaveBeenCalledOnce();
  });
});

describe('the idle warning', () => {
  it('asks whether the holder is still editing, counting down each second', () => {
    vi.useFakeTimers();
    const lock = lockState({ idleReleaseAt: serverNow() + 60_000 });
    const { container } = render(<Editor lock={lock} />);
    const warning = screen.getByRole('region', { name: 'Are you still editing?' });
    expect(warning.getAttribute('data-state')).toBe('idle');
    expect(warning.hasAttribute('aria-modal')).toBe(false);
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(warning).toHaveProperty('textContent', expect.stringContaining('in 60 seconds.'));
    const announced = 'Are you still editing? This page will be released in 60 seconds.';
    expect(liveRegion(container)?.textContent).toBe(announced);

    act(() => vi.advanceTimersByTime(1_000));
    expect(warning.textContent).toContain('This page will be released in 59 seconds.');
    act(() => vi.advanceTimersByTime(58_000));
    expect(warning.textContent).toContain('This page will be released in 1 second.');
    // The live region said it once; it does not count down aloud.
    expect(liveRegion(container)?.textContent).toBe(announced);
  });

  it('answers Keep editing with lock.keepEditing(), leaving the editor usable', () => {
    const lock = lockState({ idleReleaseAt: serverNow() + 60_000 });
    const { container } = render(<Editor lock={lock} />);
    expect(container.querySelector('[inert], dialog')).toBeNull();
    const warning = screen.getByRole('region', { name: 'Are you still editing?' });
    fireEvent.click(within(warning).getByRole('button', { name: 'Keep editing' }));
    expect(lock.keepEditing).toHaveBeenCalledOnce();
  });

  it('tells its Keep editing from the request prompt’s, when both show', () => {
    render(<Editor lock={heldWith([waiter(bob)], { idleReleaseAt: serverNow() + 60_000 })} />);
    const buttons = screen.getAllByRole('button', { name: 'Keep editing' });
    const description = (button: HTMLElement) =>
      document.getElementById(button.getAttribute('aria-describedby') ?? '')?.textContent;
    expect(buttons.map(description)).toEqual(
      expect.arrayContaining(['Bob asks to edit this page', 'Are you still editing?']),
    );
  });

  it('runs no timer while there is no warning', () => {
    vi.useFakeTimers();
    render(<Editor lock={lockState()} />);
    expect(vi.getTimerCount()).toBe(0);
    expect(screen.queryByRole('region', { name: 'Are you still editing?' })).toBeNull();
  });

  it('works as a part of its own inside a composed root', () => {
    render(
      <LockOverlayRoot lock={lockState({ idleReleaseAt: serverNow() + 30_000 })}>
        <LockOverlayIdleWarning />
      </LockOverlayRoot>,
    );
    const warning = screen.getByRole('region', { name: 'Are you still editing?' });
    expect(warning).toHaveProperty('textContent', expect.stringContaining('in 30 seconds.'));
  });
});

describe('input in the editor counts as still editing', () => {
  it('calls keepEditing on keydown, input and pointerdown, at most once a second', () => {
    vi.useFakeTimers();
    const lock = lockState();
    render(<Editor lock={lock} />);
    const textarea = screen.getByRole('textbox', { name: 'Body' });
    fireEvent.pointerDown(textarea);
    fireEvent.keyDown(textarea, { key: 'a' });
    fireEvent.input(textarea, { target: { value: 'a' } });
    expect(lock.keepEditing).toHaveBeenCalledTimes(1);
    act(() => vi.advanceTimersByTime(1_000));
    fireEvent.keyDown(textarea, { key: 'b' });
    expect(lock.keepEditing).toHaveBeenCalledTimes(2);
    act(() => vi.advanceTimersByTime(500));
    fireEvent.input(textarea, { target: { value: 'ab' } });
    expect(lock.keepEditing).toHaveBeenCalledTimes(2);
    act(() => vi.advanceTimersByTime(500));
    fireEvent.input(textarea, { target: { value: 'abc' } });
    expect(lock.keepEditing).toHaveBeenCalledTimes(3);
  });

  it('counts real typing, even when the editor stops its events', async () => {
    const user = userEvent.setup();
    const lock = lockState();
    render(
      <LockOverlay lock={lock}>
        <textarea aria-label="Body" onKeyDown={(event) => event.stopPropagation()} />
      </LockOverlay>,
    );
    await user.type(screen.getByRole('textbox', { name: 'Body' }), 'hello');
    expect(lock.keepEditing).toHaveBeenCalled();
  });

  it('answers a shown idle warning at once, whatever the throttle says', () => {
    const lock = lockState({ idleReleaseAt: serverNow() + 60_000 });
    render(<Editor lock={lock} />);
    const textarea = screen.getByRole('textbox', { name: 'Body' });
    fireEvent.keyDown(textarea, { key: 'a' });
    fireEvent.keyDown(textarea, { key: 'b' });
    expect(lock.keepEditing).toHaveBeenCalledTimes(2);
  });

  it('ignores input outside the editor, and in a tab that does not hold the lock', () => {
    const held = lockState();
    const { rerender } = render(
      <>
        <input aria-label="Search" />
        <Editor lock={held} />
      </>,
    );
    fireEvent.keyDown(screen.getByRole('textbox', { name: 'Search' }), { key: 'a' });
    expect(held.keepEditing).not.toHaveBeenCalled();
    const lost = lockState({ status: 'lost', reason: 'taken-over', holder: carol });
    rerender(
      <>
        <input aria-label="Search" />
        <Editor lock={lost} />
      </>,
    );
    fireEvent.pointerDown(screen.getByRole('textbox', { name: 'Body' }));
    expect(lost.keepEditing).not.toHaveBeenCalled();
  });

  it('counts input anywhere on the page when the overlay covers the whole page', () => {
    const lock = lockState();
    render(
      <>
        <textarea aria-label="Body" />
        <LockOverlay lock={lock} />
      </>,
    );
    fireEvent.keyDown(screen.getByRole('textbox', { name: 'Body' }), { key: 'a' });
    expect(lock.keepEditing).toHaveBeenCalledOnce();
  });
});

describe('after this tab handed the page over, or idled out', () => {
  it.each([
    ['handed-over', bob, 'You handed this page to Bob.'],
    ['idle', null, 'This page was released because you were away.'],
  ] as const)('says so when %s, the editor read-only', (reason, holder, title) => {
    render(
      <Editor lock={lockState({ status: 'lost', reason, holder, since: holder ? SINCE : null })} />,
    );
    const banner = screen.getByRole('region', { name: title });
    expect(banner.getAttribute('data-state')).toBe('lost');
    expect(screen.getByRole('textbox', { name: 'Body' }).hasAttribute('readonly')).toBe(true);
  });
});

describe('in German, through messages', () => {
  const ordinal = (place: number) => `${place}.`;
  const german: Partial<LockOverlayMessages> = {
    lockedBy: ({ name }) => `${name} bearbeitet diese Seite`,
    lockedDescription: ({ canAsk }) =>
      canAsk
        ? 'Sie können um die Seite bitten, warten oder zurückgehen.'
        : 'Sie können warten oder zurückgehen.',
    goBack: 'Zurück',
    lost: (reason, { name }) =>
      reason === 'handed-over'
        ? `Sie haben diese Seite an ${name} übergeben.`
        : reason === 'idle'
          ? 'Diese Seite wurde freigegeben, weil Sie abwesend waren.'
          : 'Die Seite ist nicht mehr für Sie reserviert.',
    reload: 'Neu laden',
    askToEdit: 'Bearbeitung anfragen',
    askAgain: 'Erneut anfragen',
    askNoteLabel: ({ name }) => `Nachricht an ${name} (optional)`,
    placeInLine: ({ place }) =>
      place === 1 ? 'Sie sind als Nächstes dran' : `${ordinal(place)} in der Reihe`,
    askState: (state, { name }) =>
      ({
        sending: `${name} wird gefragt…`,
        pending: `Warten auf die Antwort von ${name}`,
        declined: `${name} bearbeitet noch`,
        lapsed: `${name} hat nicht geantwortet`,
      })[state],
    leaveQueue: 'Warteschlange verlassen',
    othersWaiting: ({ count }) => (count === 1 ? '1 Person wartet.' : `${count} Personen warten.`),
    askedBy: ({ name }) => `${name} möchte diese Seite bearbeiten`,
    askedNote: ({ message }) => `„${message}“`,
    waitingInLine: ({ names }) =>
      `${names.join(' und ')} ${names.length === 1 ? 'wartet' : 'warten'}`,
    handOver: 'Übergeben',
    keepEditing: 'Weiter bearbeiten',
    idleTitle: 'Bearbeiten Sie noch?',
    idleCountdown: ({ seconds }) => `Diese Seite wird in ${seconds} Sekunden freigegeben.`,
  };

  it('asks to edit and waits in line in German', () => {
    const { rerender } = render(<Editor lock={blockedByAlice({ waiting: 2 })} messages={german} />);
    expect(screen.getByRole('textbox', { name: 'Nachricht an Alice (optional)' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Bearbeitung anfragen' })).toBeTruthy();
    expect(screen.getByRole('status').textContent).toBe('2 Personen warten.');
    rerender(<Editor lock={blockedByAlice({ place: 1, askState: 'pending' })} messages={german} />);
    expect(screen.getByRole('status').textContent).toBe(
      'Sie sind als Nächstes dranWarten auf die Antwort von Alice',
    );
    rerender(
      <Editor lock={blockedByAlice({ place: 2, askState: 'declined' })} messages={german} />,
    );
    expect(screen.getByRole('status').textContent).toBe('2. in der ReiheAlice bearbeitet noch');
    expect(screen.getByRole('button', { name: 'Erneut anfragen' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Warteschlange verlassen' })).toBeTruthy();
  });

  it('asks the holder in German, and warns them when they idle', () => {
    const { rerender } = render(
      <Editor
        lock={heldWith([waiter(bob, { message: 'Kurz?' }), waiter(carol)])}
        messages={german}
      />,
    );
    const prompt = screen.getByRole('region', { name: 'Bob möchte diese Seite bearbeiten' });
    expect(within(prompt).getByText('„Kurz?“')).toBeTruthy();
    expect(within(prompt).getByText('Bob und Carol warten')).toBeTruthy();
    expect(
      within(prompt)
        .getAllByRole('button')
        .map((button) => button.textContent),
    ).toEqual(['Übergeben', 'Weiter bearbeiten']);
    rerender(
      <Editor lock={lockState({ idleReleaseAt: serverNow() + 60_000 })} messages={german} />,
    );
    const warning = screen.getByRole('region', { name: 'Bearbeiten Sie noch?' });
    expect(warning.textContent).toContain('Diese Seite wird in 60 Sekunden freigegeben.');
    expect(within(warning).getByRole('button', { name: 'Weiter bearbeiten' })).toBeTruthy();
  });

  it('says in German that the page was handed over, or released while away', () => {
    const { rerender } = render(
      <Editor
        lock={lockState({ status: 'lost', reason: 'handed-over', holder: bob })}
        messages={german}
      />,
    );
    expect(
      screen.getByRole('region', { name: 'Sie haben diese Seite an Bob übergeben.' }),
    ).toBeTruthy();
    rerender(
      <Editor
        lock={lockState({ status: 'lost', reason: 'idle', holder: null })}
        messages={german}
      />,
    );
    expect(
      screen.getByRole('region', {
        name: 'Diese Seite wurde freigegeben, weil Sie abwesend waren.',
      }),
    ).toBeTruthy();
  });
});

describe('the English defaults', () => {
  it('name every list of waiters as people say it', () => {
    const { waitingInLine } = defaultLockOverlayMessages;
    expect(waitingInLine({ names: ['Bob'] })).toBe('Bob is waiting');
    expect(waitingInLine({ names: ['Bob', 'Carol'] })).toBe('Bob and Carol are waiting');
    expect(waitingInLine({ names: ['Bob', 'Carol', 'Dan'] })).toBe(
      'Bob, Carol and Dan are waiting',
    );
  });
});

describe('the ask part, composed', () => {
  it('sits inside a panel of your own', async () => {
    const user = userEvent.setup();
    const lock = blockedByAlice();
    render(
      <LockOverlayRoot lock={lock}>
        <LockOverlayContent>
          <textarea aria-label="Body" />
        </LockOverlayContent>
        <LockOverlayPanel>
          <LockOverlayTitle />
          <LockOverlayAsk className="my-ask" />
        </LockOverlayPanel>
      </LockOverlayRoot>,
    );
    const ask = document.querySelector('.my-ask');
    expect(ask?.className).toBe('page-lock-overlay__ask my-ask');
    expect(ask?.getAttribute('data-state')).toBe('locked');
    expect(ask?.getAttribute('data-ask-state')).toBe('ask');
    await user.click(screen.getByRole('button', { name: 'Ask to edit' }));
    expect(lock.ask).toHaveBeenCalledOnce();
  });

  it('says what to add when used outside a root', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(() => render(<LockOverlayHolderPrompt />)).toThrow(
      '[page-lock] LockOverlayHolderPrompt must be inside <LockOverlayRoot> (or <LockOverlay>).',
    );
    vi.mocked(console.error).mockRestore();
  });
});

describe('accessibility (axe-core)', () => {
  // jsdom has no layout or computed colours: contrast is checked in Chromium (Storybook).
  const options: axe.RunOptions = { rules: { 'color-contrast': { enabled: false } } };

  it.each([
    ['asking is possible', () => blockedByAlice({ waiting: 2 })],
    ['in line', () => blockedByAlice({ place: 2, askState: 'declined' })],
    ['asked by others', () => heldWith([waiter(bob, { message: 'Please?' }), waiter(carol)])],
    ['idle', () => lockState({ idleReleaseAt: serverNow() + 60_000 })],
    ['idle and asked', () => heldWith([waiter(bob)], { idleReleaseAt: serverNow() + 60_000 })],
  ] as const)('has no violations when %s', async (_name, makeLock) => {
    const { container } = render(
      <main>
        <h1>Edit page</h1>
        <Editor lock={makeLock()} />
      </main>,
    );
    const results = await axe.run(container, options);
    expect(results.violations.map((violation) => `${violation.id}: ${violation.help}`)).toEqual([]);
  });
});
