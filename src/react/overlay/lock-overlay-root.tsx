'use client';

import {
  type CSSProperties,
  type ReactNode,
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import { createPortal } from 'react-dom';
import { getNavigation } from '../../core/navigation';
import { usePageLockSettings } from '../page-lock-context';
import type { PageLockState } from '../types';
import { usePageLock } from '../use-page-lock';
import { classNames, LOCK_OVERLAY_PARTS, LockOverlayContext } from './lock-overlay-context';
import { defaultLockOverlayMessages, type LockOverlayMessages } from './lock-overlay-messages';
import { holderPromptOf, idleWarningText, secondsUntil } from './lock-overlay-queue-view';
import {
  buildLockOverlayView,
  type LockOverlayView,
  overlayModeOf,
  overlayStateOf,
} from './lock-overlay-view';
import { makeReadOnly, marker } from './read-only';
import { useKeepEditingOnInput } from './use-keep-editing';
import { usePendingGuard } from './use-pending-guard';
import { useServerClock } from './use-server-clock';

export interface LockOverlayRootProps {
  /**
   * The lock state to show. Without it the overlay reads `usePageLock()` of the enclosing
   * `<PageLockProvider>`. Decide once: switching between a `lock` prop and none remounts the
   * children.
   */
  lock?: PageLockState;
  /**
   * `children` (the default): the root wraps a `<LockOverlayContent>` (the editor) and blocks only
   * that. `page`: it covers the whole page: the root is portalled into `<body>`, its panel is a
   * modal `<dialog>` while blocking, and the other children of `<body>` are inert while checking
   * and read-only after a lost lock.
   */
  scope?: 'children' | 'page';
  /**
   * `true` (the default, or the provider's `blockEditing`): block the editor. `false`: a notice
   * (`role="status"`) while the editor stays usable.
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
   * The parts: `<LockOverlayContent>` and `<LockOverlayPanel>` (and, for ask to edit and idle
   * release, `<LockOverlayAsk>` inside the panel, `<LockOverlayHolderPrompt>` and
   * `<LockOverlayIdleWarning>` beside the content), in the order you want them.
   */
  children?: ReactNode;
}

// Keeps the announcement out of sight but in the accessibility tree; inline so it holds without
// the stylesheet (an unstyled overlay would otherwise show its message twice).
const visuallyHidden: CSSProperties = {
  position: 'absolute',
  width: 1,
  height: 1,
  overflow: 'hidden',
  clipPath: 'inset(50%)',
  whiteSpace: 'nowrap',
};

/**
 * The overlay's state, for its parts (DESIGN.md, "The overlay"): decides what to show for the
 * lock (`data-state`) and how to block (`data-mode`), and announces it in a polite live region.
 * `<LockOverlay>` is the ready-made composition of the parts; compose them yourself to move or
 * replace one:
 *
 * @example
 * <LockOverlayRoot backHref="/admin/pages">
 *   <LockOverlayContent>
 *     <PageEditor />
 *   </LockOverlayContent>
 *   <LockOverlayPanel>
 *     <LockOverlayTitle />
 *     <LockOverlayDescription />
 *     <LockOverlayActions />
 *   </LockOverlayPanel>
 * </LockOverlayRoot>
 */
export function LockOverlayRoot(props: LockOverlayRootProps): ReactNode {
  return props.lock ? <RootFor {...props} lock={props.lock} /> : <ProvidedRoot {...props} />;
}

function ProvidedRoot(props: LockOverlayRootProps): ReactNode {
  return <RootFor {...props} lock={usePageLock()} />;
}

function RootFor(props: LockOverlayRootProps & { lock: PageLockState }): ReactNode {
  const { lock, backHref, onGoBack } = props;
  const scope = props.scope ?? 'children';
  const messages = useMemo(
    () => ({ ...defaultLockOverlayMessages, ...props.messages }),
    [props.messages],
  );
  const settings = usePageLockSettings();
  const state = overlayStateOf(lock);
  const mode = overlayModeOf(state, props.blockEditing ?? settings?.blockEditing ?? true);
  // Read only while shown: usePageLock re-renders for what was read, and the offset moves on
  // every poll while this tab holds the lock.
  const showsTime = state !== null && lock.since !== null;
  const serverNow = useServerClock(showsTime ? lock.serverTimeOffset : 0, showsTime);
  const pending = usePendingGuard();

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
  const contentRef = useRef<HTMLDivElement>(null);
  useRestOfPage(rootRef, scope === 'page' ? mode : 'hidden');
  // Over the whole page, the page is the editor: input anywhere in it counts.
  useKeepEditingOnInput(scope === 'page' ? 'document' : noTarget, lock);
  const announcement = useAnnouncement(view, lock, messages);
  const isClient = useIsClient();

  const root = (
    <div
      ref={rootRef}
      className={classNames(LOCK_OVERLAY_PARTS.root, props.className)}
      data-state={view?.state ?? 'hidden'}
      data-mode={mode}
      data-scope={scope}
      data-failure={view?.failure ?? undefined}
    >
      <LockOverlayContext.Provider
        value={{
          view,
          lock,
          messages,
          mode,
          scope,
          titleId,
          descriptionId,
          busy: pending.busy,
          contentRef,
        }}
      >
        {props.children}
      </LockOverlayContext.Provider>
      <div
        className={LOCK_OVERLAY_PARTS.live}
        aria-live="polite"
        aria-atomic
        style={visuallyHidden}
      >
        {announcement}
      </div>
    </div>
  );
  if (scope === 'children') return root;
  // Nothing during server rendering and hydration: a portal needs `document`.
  return isClient ? createPortal(root, document.body) : null;
}

/**
 * Over the whole page, the rest of the page (the other children of `<body>`) is inert while the
 * first answer is on its way, and read-only after a lost lock. A block needs nothing here: the
 * modal `<dialog>` makes the rest inert itself. Gives back exactly what it changed.
 */
function useRestOfPage(
  rootRef: { current: HTMLDivElement | null },
  mode: ReturnType<typeof overlayModeOf>,
): void {
  useEffect(() => {
    const root = rootRef.current;
    if (!root || (mode !== 'checking' && mode !== 'read-only')) return;
    const rest = Array.from(root.parentElement?.children ?? []).filter((child) => child !== root);
    if (mode === 'read-only') return makeReadOnly(rest);
    const undo: Array<() => void> = [];
    const mark = marker(undo);
    for (const element of rest) mark(element, 'inert', '');
    return () => {
      for (const step of undo) step();
    };
  }, [rootRef, mode]);
}

const noTarget = { current: null };

/**
 * What the live region says: the overlay's message, or that editing is possible again; to the
 * holder, the idle warning (with the seconds left when it appeared: a countdown announced every
 * second would drown everything else) or who asks to edit.
 */
function useAnnouncement(
  view: LockOverlayView | null,
  lock: PageLockState,
  messages: LockOverlayMessages,
): string {
  const [hasShown, setHasShown] = useState(false);
  const [idleWarning, setIdleWarning] = useState<{ at: number; text: string } | null>(null);
  // Set during render (React's pattern for state derived from props), not in an effect, so the
  // first render after the overlay goes away already announces it. The quiet check on opening
  // does not count: every page load would end with "You can edit this page now".
  if (view !== null && view.state !== 'checking' && !hasShown) setHasShown(true);
  const releaseAt = lock.status === 'held' ? lock.idleReleaseAt : null;
  if (releaseAt !== null && idleWarning?.at !== releaseAt) {
    const seconds = secondsUntil(releaseAt, Date.now() + lock.serverTimeOffset);
    setIdleWarning({ at: releaseAt, text: idleWarningText(messages, seconds) });
  }
  if (view) return view.announcement;
  const prompt = holderPromptOf(lock, messages);
  // Once a prompt was said, its end is not "You can edit this page now": the holder always could.
  if ((releaseAt !== null || prompt) && hasShown) setHasShown(false);
  if (releaseAt !== null && idleWarning?.at === releaseAt) return idleWarning.text;
  if (prompt) return prompt.title;
  return hasShown && lock.status === 'held' ? messages.editingNow : '';
}

const subscribeToNothing = () => () => {};

/** False during server rendering and hydration, true after. */
function useIsClient(): boolean {
  return useSyncExternalStore(
    subscribeToNothing,
    () => true,
    () => false,
  );
}
