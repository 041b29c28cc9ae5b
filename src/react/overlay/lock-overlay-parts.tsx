'use client';

import { type HTMLAttributes, type ReactNode, useEffect } from 'react';
import {
  ACTIONS_NAME,
  CONTENT_NAME,
  classNames,
  DESCRIPTION_NAME,
  dataStateOf,
  LOCK_OVERLAY_PARTS,
  type LockOverlayContextValue,
  TITLE_NAME,
  useLockOverlayContext,
} from './lock-overlay-context';
import type { LockOverlayAction } from './lock-overlay-view';
import { makeReadOnly } from './read-only';
import { useKeepEditingOnInput } from './use-keep-editing';

/**
 * The wrapped editor. Always rendered, in the same place, so the editor never remounts and keeps
 * what was typed when the overlay comes and goes. `inert` while blocked or checking; after a lost
 * lock it stays selectable (so the user can copy their text) but read-only: its fields are marked
 * `readonly` / `aria-readonly`, its buttons `aria-disabled`, it carries `data-read-only` (the
 * stylesheet dims the fields), and edits are cancelled. All of it is given back when the lock is.
 * While this tab holds the lock, typing, input and pointer presses in it count as "still editing"
 * (`lock.keepEditing()`, at most once a second), which holds off the idle release.
 */
export function LockOverlayContent(props: HTMLAttributes<HTMLDivElement>): ReactNode {
  const context = useLockOverlayContext(CONTENT_NAME);
  const { mode, contentRef } = context;
  const readOnly = mode === 'read-only';
  useKeepEditingOnInput(contentRef, context.lock);
  useEffect(() => {
    const content = contentRef.current;
    if (readOnly && content) return makeReadOnly([content]);
  }, [contentRef, readOnly]);
  return (
    <div
      {...props}
      ref={contentRef}
      className={classNames(LOCK_OVERLAY_PARTS.content, props.className)}
      inert={mode === 'modal' || mode === 'checking'}
      data-state={dataStateOf(context)}
    />
  );
}

/** Shown when the part is given no children (`undefined`; `null` draws nothing). */
const orDefault = (children: ReactNode, fallback: ReactNode): ReactNode =>
  children === undefined ? fallback : children;

/**
 * The message that labels the panel: a heading while the editor is blocked or read-only (phrasing
 * content only inside it), else a paragraph. Its children default to the view's title.
 */
export function LockOverlayTitle(props: HTMLAttributes<HTMLHeadingElement>): ReactNode {
  const context = useLockOverlayContext(TITLE_NAME);
  const { view, mode } = context;
  if (!view) return null;
  const Tag = mode === 'modal' || mode === 'read-only' ? 'h2' : 'p';
  return (
    <Tag
      {...props}
      id={mode === 'checking' ? undefined : context.titleId}
      className={classNames(LOCK_OVERLAY_PARTS.message, props.className)}
      data-state={view.state}
    >
      {orDefault(props.children, view.title)}
    </Tag>
  );
}

/** The sentence that describes the panel (a `<p>`); its children default to the view's. */
export function LockOverlayDescription(props: HTMLAttributes<HTMLParagraphElement>): ReactNode {
  const context = useLockOverlayContext(DESCRIPTION_NAME);
  if (!shownWithButtons(context)) return null;
  return (
    <p
      {...props}
      id={context.descriptionId}
      className={classNames(LOCK_OVERLAY_PARTS.description, props.className)}
      data-state={dataStateOf(context)}
    >
      {orDefault(props.children, context.view?.description)}
    </p>
  );
}

/**
 * The buttons. Without children: one `<button>` per action of the view (an `<a>` for Go back with
 * `backHref`), each with `data-action`; Take over and Edit here instead wait (`aria-disabled`)
 * while a takeover is on its way.
 */
export function LockOverlayActions(props: HTMLAttributes<HTMLDivElement>): ReactNode {
  const context = useLockOverlayContext(ACTIONS_NAME);
  if (!shownWithButtons(context)) return null;
  const state = dataStateOf(context);
  return (
    <div
      {...props}
      className={classNames(LOCK_OVERLAY_PARTS.actions, props.className)}
      data-state={state}
    >
      {orDefault(
        props.children,
        context.view?.actions.map((action) => (
          <ActionButton key={action.id} action={action} state={state} busy={context.busy} />
        )),
      )}
    </div>
  );
}

// The quiet check has a title only.
const shownWithButtons = (context: LockOverlayContextValue): boolean =>
  context.view !== null && context.mode !== 'checking';

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
    // What a block focuses first: harmless when pressed by accident.
    'data-safe': action.id === 'go-back' || action.id === 'retry' ? '' : undefined,
  };
  if (action.href !== undefined) {
    return (
      <a {...common} href={action.href} onClick={action.run}>
        {action.label}
      </a>
    );
  }
  // aria-disabled rather than disabled: a disabled button drops focus.
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
