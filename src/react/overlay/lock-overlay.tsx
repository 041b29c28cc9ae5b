'use client';

import {
  type CSSProperties,
  type ReactNode,
  useId,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import { createPortal } from 'react-dom';
import { getNavigation } from '../../core/navigation';
import type { LockUser } from '../../core/protocol';
import { usePageLockSettings } from '../page-lock-context';
import type { PageLockState } from '../types';
import { usePageLock } from '../use-page-lock';
import { defaultLockOverlayMessages, type LockOverlayMessages } from './lock-overlay-messages';
import {
  buildLockOverlayView,
  type LockOverlayAction,
  type LockOverlayState,
  type LockOverlayView,
  overlayStateOf,
} from './lock-overlay-view';
import { useReadOnlyGuard } from './read-only-guard';
import { useFocusTrap } from './use-focus-trap';
import { useInertSiblings } from './use-inert-siblings';
import { useServerClock } from './use-server-clock';

/** The class names of the overlay's parts, for stylesheets and tests. */
export const LOCK_OVERLAY_PARTS = {
  root: 'page-lock-overlay',
  content: 'page-lock-overlay__content',
  backdrop: 'page-lock-overlay__backdrop',
  panel: 'page-lock-overlay__panel',
  avatar: 'page-lock-overlay__avatar',
  message: 'page-lock-overlay__message',
  description: 'page-lock-overlay__description',
  actions: 'page-lock-overlay__actions',
  button: 'page-lock-overlay__button',
  live: 'page-lock-overlay__live',
} as const;

export interface LockOverlayProps {
  /**
   * The lock state to show. Without it the overlay reads `usePageLock()` of the enclosing
   * `<PageLockProvider>`.
   */
  lock?: PageLockState;
  /**
   * The editor to cover. It is always rendered inside the same wrapper, so it never remounts and
   * keeps its state when the overlay comes and goes. While another tab holds the lock (or the
   * server is unreachable) the wrapper is `inert`; after this tab lost the lock it stays
   * selectable, so the user can copy their text, but is guarded against edits
   * ({@link LockOverlayMode}). Without children the overlay covers the whole page: it is
   * portalled into `<body>` and does the same to the other children of `<body>` (and gives back
   * only what it changed).
   */
  children?: ReactNode;
  /**
   * `true` (the default, or the provider's `blockEditing`): a modal that blocks the editor.
   * `false`: a notice (`role="status"`) while the editor stays usable.
   */
  blockEditing?: boolean;
  /**
   * Where Go back leads, as a link. Without it and without `onGoBack`: back one history entry
   * (through the navigation helper, `setNavigation` in `page-lock/core`).
   */
  backHref?: string;
  /** Runs on Go back (before the link navigates, when `backHref` is given too). */
  onGoBack?: () => void;
  /** Replaces any of the overlay's words; the rest stay {@link defaultLockOverlayMessages}. */
  messages?: Partial<LockOverlayMessages>;
  /** The locale for times (the browser's when absent). */
  locale?: string | readonly string[];
  /** The IANA time zone for clock times (the browser's when absent). */
  timeZone?: string;
  /** Added to the root element's class names. */
  className?: string;
  /**
   * Draws the holder's picture, in place of the default `<img>` (shown only when the holder has
   * an `avatarUrl`). Called whenever a holder is known, so it can draw initials instead.
   */
  renderAvatar?: (holder: LockUser, view: LockOverlayView) => ReactNode;
  /**
   * Draws the message that labels the dialog (inside its heading: phrasing content only).
   * Defaults to `view.title`.
   */
  renderMessage?: (view: LockOverlayView) => ReactNode;
  /** Draws the describing sentence (inside a `<p>`). Defaults to `view.description`. */
  renderDescription?: (view: LockOverlayView) => ReactNode;
  /**
   * Draws the buttons, inside the actions container. `view.actions` carries their labels and
   * handlers; the default draws one `<button>` (or `<a>` for Go back with `backHref`) each.
   */
  renderActions?: (view: LockOverlayView) => ReactNode;
}

// Keeps the announcement out of sight but in the accessibility tree; inline so it holds without
// the stylesheet (an unstyled overlay would otherwise show its message twice).
const visuallyHidden: CSSProperties = {
  position: 'absolute',
  width: 1,
  height: 1,
  margin: -1,
  padding: 0,
  border: 0,
  overflow: 'hidden',
  clip: 'rect(0 0 0 0)',
  whiteSpace: 'nowrap',
};

/**
 * Covers the editor while someone else holds the page (DESIGN.md, "The overlay"): who holds it
 * and since when, Go back, Take over (when allowed), Edit here instead (for this user's other
 * tab); after a lost lock, what happened, with the editor's content still visible, read-only;
 * when the server could not be asked, why (offline, not signed in, not allowed, no lock route,
 * server error) with Retry. Shows nothing while this tab holds the lock. While the first answer
 * of a lock acquired on mount is on its way (`isChecking`), the editor is inert under a quiet
 * "Checking who is editing…" (no dialog, no focus trap), so nothing typed freezes under a late
 * overlay; an editor that focuses itself on mount should do so once `status` is `held`.
 *
 * Without a `lock` prop it shows `usePageLock()` of the enclosing
 * `<PageLockProvider resourceId>`. Decide once: switching between a `lock` prop and none
 * remounts the children.
 *
 * Style it with `page-lock/styles.css` (CSS custom properties `--page-lock-*`), or with your own
 * rules on the `page-lock-overlay*` class names and `data-state` attributes. It works unstyled.
 *
 * @example
 * <PageLockProvider adapter={adapter} resourceId="page:42">
 *   <LockOverlay backHref="/admin/pages">
 *     <PageEditor />
 *   </LockOverlay>
 * </PageLockProvider>
 */
export function LockOverlay(props: LockOverlayProps): ReactNode {
  return props.lock ? (
    <LockOverlayFor {...props} lock={props.lock} />
  ) : (
    <ProvidedLockOverlay {...props} />
  );
}

function ProvidedLockOverlay(props: LockOverlayProps): ReactNode {
  return <LockOverlayFor {...props} lock={usePageLock()} />;
}

function LockOverlayFor(props: LockOverlayProps & { lock: PageLockState }): ReactNode {
  const { lock } = props;
  const wrapsChildren = props.children !== undefined;

  const messages = useMemo(
    () => ({ ...defaultLockOverlayMessages, ...props.messages }),
    [props.messages],
  );
  const settings = usePageLockSettings();
  const state = overlayStateOf(lock);
  const mode = overlayModeOf(state, props.blockEditing ?? settings?.blockEditing ?? true);
  const blocking = mode === 'modal' || mode === 'read-only';
  // What is behind cannot be used: a modal, or the quiet wait for the first answer.
  const covering = mode === 'modal' || mode === 'checking';
  // Read only while shown: usePageLock re-renders for what was read, and the offset moves on
  // every poll while this tab holds the lock.
  const showsTime = state !== null && lock.since !== null;
  const serverNow = useServerClock(showsTime ? lock.serverTimeOffset : 0, showsTime);
  const pending = usePendingGuard();

  const { backHref, onGoBack } = props;
  const view =
    state === null || mode === 'hidden'
      ? null
      : buildLockOverlayView({
          state,
          lock,
          mode,
          messages,
          serverNow,
          time: { locale: props.locale, timeZone: props.timeZone },
          handlers: {
            backHref,
            goBack: onGoBack ?? (backHref === undefined ? () => getNavigation().back() : () => {}),
            takeOver: () => pending.run(() => lock.takeOver()),
            reload: () => getNavigation().reload(),
            retry: () => lock.retry(),
          },
        });

  const titleId = useId();
  const descriptionId = useId();
  const rootRef = useRef<HTMLDivElement>(null);
  const panelRef = useRef<HTMLDivElement>(null);
  const contentRef = useRef<HTMLDivElement>(null);
  useFocusTrap(panelRef, { active: blocking, trap: mode === 'modal', contentKey: state ?? '' });
  useInertSiblings(rootRef, covering && !wrapsChildren);
  useReadOnlyGuard(
    wrapsChildren ? contentRef : rootRef,
    mode === 'read-only',
    wrapsChildren ? 'element' : 'siblings',
  );
  const announcement = useAnnouncement(view, lock, messages);
  const isClient = useIsClient();

  let panel: ReactNode = null;
  if (view?.state === 'checking') {
    // Quiet: no dialog, no focus moved, no buttons; the live region below announces it.
    panel = (
      <div className={LOCK_OVERLAY_PARTS.panel} data-state={view.state}>
        <p className={LOCK_OVERLAY_PARTS.message} data-state={view.state}>
          {props.renderMessage ? props.renderMessage(view) : view.title}
        </p>
      </div>
    );
  } else if (view) {
    const panelContent = (
      <>
        {view.holder && <Avatar holder={view.holder} view={view} render={props.renderAvatar} />}
        {blocking ? (
          <h2 id={titleId} className={LOCK_OVERLAY_PARTS.message} data-state={view.state}>
            {props.renderMessage ? props.renderMessage(view) : view.title}
          </h2>
        ) : (
          <p id={titleId} className={LOCK_OVERLAY_PARTS.message} data-state={view.state}>
            {props.renderMessage ? props.renderMessage(view) : view.title}
          </p>
        )}
        <p id={descriptionId} className={LOCK_OVERLAY_PARTS.description} data-state={view.state}>
          {props.renderDescription ? props.renderDescription(view) : view.description}
        </p>
        <div className={LOCK_OVERLAY_PARTS.actions} data-state={view.state}>
          {props.renderActions
            ? props.renderActions(view)
            : view.actions.map((action) => (
                <ActionButton
                  key={action.id}
                  action={action}
                  state={view.state}
                  busy={pending.busy}
                />
              ))}
        </div>
      </>
    );
    const panelProps = {
      className: LOCK_OVERLAY_PARTS.panel,
      'data-state': view.state,
      'aria-labelledby': titleId,
      'aria-describedby': descriptionId,
    };
    panel = blocking ? (
      <div
        ref={panelRef}
        {...panelProps}
        role="dialog"
        aria-modal={mode === 'modal' || undefined}
        tabIndex={-1}
      >
        {panelContent}
      </div>
    ) : (
      <div {...panelProps} role="status">
        {panelContent}
      </div>
    );
  }

  const rootProps = {
    ref: rootRef,
    className: [LOCK_OVERLAY_PARTS.root, props.className].filter(Boolean).join(' '),
    'data-state': view?.state ?? 'hidden',
    'data-mode': mode,
    'data-scope': wrapsChildren ? 'children' : 'page',
    'data-failure': view?.failure ?? undefined,
  };
  const live = (
    <div className={LOCK_OVERLAY_PARTS.live} aria-live="polite" aria-atomic style={visuallyHidden}>
      {announcement}
    </div>
  );

  if (!wrapsChildren) {
    if (!isClient) return null;
    return createPortal(
      <div {...rootProps}>
        {covering ? (
          <div className={LOCK_OVERLAY_PARTS.backdrop} data-state={state}>
            {panel}
          </div>
        ) : (
          panel
        )}
        {live}
      </div>,
      document.body,
    );
  }

  // The notice and the read-only banner sit before the editor, the modal (and the quiet
  // "checking" status) after it, over it; every slot stays in place (empty slots included) so
  // React never remounts the editor when the overlay comes or goes.
  return (
    <div {...rootProps}>
      {covering ? null : panel}
      <div
        ref={contentRef}
        className={LOCK_OVERLAY_PARTS.content}
        inert={covering}
        data-state={view?.state ?? 'hidden'}
      >
        {props.children}
      </div>
      {covering ? (
        <div className={LOCK_OVERLAY_PARTS.backdrop} data-state={state}>
          {panel}
        </div>
      ) : null}
      {live}
    </div>
  );
}

/**
 * How the overlay blocks: `modal` covers the editor and makes it inert; `read-only` (a lost
 * lock) leaves the editor visible and selectable, so the user can copy their text, but guards
 * it against edits; `notice` (`blockEditing={false}`) blocks nothing; `checking` (the first
 * answer of a lock acquired on mount is on its way) makes the editor inert under a quiet status,
 * with no dialog and no focus trap.
 */
export type LockOverlayMode = 'modal' | 'read-only' | 'notice' | 'checking';

function overlayModeOf(
  state: LockOverlayState | null,
  blockEditing: boolean,
): LockOverlayMode | 'hidden' {
  if (state === null) return 'hidden';
  // Nothing is blocked without blockEditing, so nothing typed can freeze: no need to wait.
  if (state === 'checking') return blockEditing ? 'checking' : 'hidden';
  if (!blockEditing) return 'notice';
  return state === 'lost' ? 'read-only' : 'modal';
}

function Avatar(props: {
  holder: LockUser;
  view: LockOverlayView;
  render: LockOverlayProps['renderAvatar'];
}): ReactNode {
  if (props.render) return props.render(props.holder, props.view);
  if (!props.holder.avatarUrl) return null;
  return (
    <img
      className={LOCK_OVERLAY_PARTS.avatar}
      src={props.holder.avatarUrl}
      alt={props.view.messages.avatarAlt({ name: props.holder.name })}
    />
  );
}

function ActionButton(props: {
  action: LockOverlayAction;
  state: string;
  busy: boolean;
}): ReactNode {
  const { action } = props;
  const common = {
    className: LOCK_OVERLAY_PARTS.button,
    'data-action': action.id,
    'data-state': props.state,
    'data-primary': action.primary ? '' : undefined,
  };
  if (action.href !== undefined) {
    return (
      <a {...common} href={action.href} onClick={action.run}>
        {action.label}
      </a>
    );
  }
  // aria-disabled rather than disabled: a disabled button drops focus out of the dialog.
  const waiting = props.busy && (action.id === 'take-over' || action.id === 'edit-here');
  return (
    <button
      {...common}
      type="button"
      aria-disabled={waiting || undefined}
      onClick={waiting ? undefined : action.run}
    >
      {action.label}
    </button>
  );
}

/** Runs one async action at a time, so a double click does not take over twice. */
function usePendingGuard(): { busy: boolean; run: (action: () => Promise<unknown>) => void } {
  const [busy, setBusy] = useState(false);
  const running = useRef(false);
  return {
    busy,
    run: (action) => {
      if (running.current) return;
      running.current = true;
      setBusy(true);
      const done = () => {
        running.current = false;
        setBusy(false);
      };
      // A refused takeover shows in the lock state itself; here it only re-enables the button.
      action().then(done, done);
    },
  };
}

/** What the live region says: the overlay's message, or that editing is possible again. */
function useAnnouncement(
  view: LockOverlayView | null,
  lock: PageLockState,
  messages: LockOverlayMessages,
): string {
  const [hasShown, setHasShown] = useState(false);
  // Set during render (React's pattern for state derived from props), not in an effect, so the
  // first render after the overlay goes away already announces it. The quiet check on opening
  // does not count: every page load would end with "You can edit this page now".
  if (view !== null && view.state !== 'checking' && !hasShown) setHasShown(true);
  if (view) return view.announcement;
  return hasShown && lock.status === 'held' ? messages.editingNow : '';
}

const subscribeToNothing = () => () => {};

/** False during server rendering and hydration, true after: portals need `document`. */
function useIsClient(): boolean {
  return useSyncExternalStore(
    subscribeToNothing,
    () => true,
    () => false,
  );
}
