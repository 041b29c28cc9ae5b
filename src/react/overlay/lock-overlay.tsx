'use client';

import type { ReactNode } from 'react';
import type { LockUser } from '../../protocol/protocol';
import { LockOverlayAsk } from './lock-overlay-ask';
import { LOCK_OVERLAY_PARTS, useLockOverlayContext } from './lock-overlay-context';
import { LockOverlayHolderPrompt } from './lock-overlay-holder-prompt';
import { LockOverlayIdleWarning } from './lock-overlay-idle-warning';
import { LockOverlayPanel } from './lock-overlay-panel';
import {
  LockOverlayActions,
  LockOverlayContent,
  LockOverlayDescription,
  LockOverlayTitle,
} from './lock-overlay-parts';
import { LockOverlayRoot, type LockOverlayRootProps } from './lock-overlay-root';
import type { LockOverlayView } from './lock-overlay-view';

export interface LockOverlayProps extends Omit<LockOverlayRootProps, 'scope' | 'children'> {
  /**
   * The editor to cover. It is always rendered inside the same wrapper, so it never remounts and
   * keeps its state when the overlay comes and goes. While another tab holds the lock (or the
   * server is unreachable) the wrapper is `inert` under a labelled region, and the rest of the
   * page stays usable; after this tab lost the lock it stays selectable, so the user can copy
   * their text, with its fields read-only. Without children the overlay covers the whole page:
   * a modal `<dialog>` while blocking (the browser makes the rest of the page inert), and the
   * other children of `<body>` read-only after a lost lock.
   */
  children?: ReactNode;
  /**
   * Draws the holder's picture, in place of the default `<img>` (shown only when the holder has
   * an `avatarUrl`). Called whenever a holder is known, so it can draw initials instead.
   */
  renderAvatar?: (holder: LockUser, view: LockOverlayView) => ReactNode;
  /**
   * Draws the message that labels the panel (inside its heading: phrasing content only).
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

/**
 * Covers the editor while someone else holds the page (DESIGN.md, "The overlay"): who holds it
 * and since when, Go back, Take over (when allowed), Edit here instead (for this user's other
 * tab); after a lost lock, what happened, with the editor's content still visible, read-only;
 * when the server could not be asked, why (offline, not signed in, not allowed, no lock route,
 * server error) with Retry. Where the server supports it, a blocked user can ask to edit (with a
 * note) and wait in line; the holder is asked, beside the editor and without blocking it, to
 * hand over or keep editing; with `idleTimeout`, an idle holder is asked "Are you still
 * editing?" before the page is released. Otherwise it shows nothing while this tab holds the
 * lock. While the first answer of a lock acquired on mount is on its way (`isChecking`), the
 * editor is inert under a quiet "Checking who is editing…" (no focus moved), so nothing typed
 * freezes under a late overlay; an editor that focuses itself on mount should do so once
 * `status` is `held`.
 *
 * The ready-made composition of the parts (`LockOverlayRoot`, `LockOverlayContent`,
 * `LockOverlayPanel`, `LockOverlayTitle`, `LockOverlayDescription`, `LockOverlayAsk`,
 * `LockOverlayActions`, `LockOverlayIdleWarning`, `LockOverlayHolderPrompt`).
 * Without a `lock` prop it shows `usePageLock()` of the enclosing `<PageLockProvider
 * resourceId>`. Style it with `page-lock/styles.css` (CSS custom properties `--page-lock-*`), or
 * with your own rules on the `page-lock-overlay*` class names and `data-state` / `data-mode`
 * attributes. It works unstyled.
 *
 * @example
 * <PageLockProvider adapter={adapter} resourceId="page:42">
 *   <LockOverlay backHref="/admin/pages">
 *     <PageEditor />
 *   </LockOverlay>
 * </PageLockProvider>
 */
export function LockOverlay(props: LockOverlayProps): ReactNode {
  const { children, renderAvatar, renderMessage, renderDescription, renderActions, ...root } =
    props;
  const wrapsChildren = children !== undefined;
  return (
    <LockOverlayRoot {...root} scope={wrapsChildren ? 'children' : 'page'}>
      <Layout {...props} wrapsChildren={wrapsChildren} />
    </LockOverlayRoot>
  );
}

function Layout(props: LockOverlayProps & { wrapsChildren: boolean }): ReactNode {
  const { view, mode } = useLockOverlayContext('LockOverlay');
  const draw = (render: ((view: LockOverlayView) => ReactNode) | undefined) =>
    render && view ? render(view) : undefined;
  const panel = (
    <LockOverlayPanel>
      {view?.holder && <Avatar holder={view.holder} view={view} render={props.renderAvatar} />}
      <LockOverlayTitle>{draw(props.renderMessage)}</LockOverlayTitle>
      <LockOverlayDescription>{draw(props.renderDescription)}</LockOverlayDescription>
      <LockOverlayAsk />
      <LockOverlayActions>{draw(props.renderActions)}</LockOverlayActions>
    </LockOverlayPanel>
  );
  // The holder's prompts sit before the editor, blocking nothing (each draws nothing when not
  // needed).
  const prompts = (
    <>
      <LockOverlayIdleWarning />
      <LockOverlayHolderPrompt />
    </>
  );
  if (!props.wrapsChildren) {
    return (
      <>
        {prompts}
        {panel}
      </>
    );
  }
  // The notice and the read-only banner sit before the editor, the block (and the quiet
  // "checking" status) after it, over it; every slot stays in place (empty ones included) so
  // React never remounts the editor when the overlay comes or goes.
  const inFront = mode === 'notice' || mode === 'read-only';
  return (
    <>
      {prompts}
      {inFront ? panel : null}
      <LockOverlayContent>{props.children}</LockOverlayContent>
      {inFront ? null : panel}
    </>
  );
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
