'use client';

import { type HTMLAttributes, type ReactNode, useEffect, useLayoutEffect, useRef } from 'react';
import {
  classNames,
  dataStateOf,
  LOCK_OVERLAY_PARTS,
  PANEL_NAME,
  useLockOverlayContext,
} from './lock-overlay-context';

/**
 * The panel that says what is going on, labelled by `<LockOverlayTitle>` and described by
 * `<LockOverlayDescription>`; nothing while there is nothing to show. What it is depends on
 * `data-mode`:
 * - `modal` over the whole page: a `<dialog>` opened with `showModal()`, so the browser puts it in
 *   the top layer, moves focus into it and makes the rest of the page inert. Escape does not
 *   dismiss it (`closedby="none"`, `cancel` refused, and reopened if closed anyway).
 * - `modal` over the wrapped editor: a labelled region (`role="region"`) over the inert editor,
 *   not a modal: the rest of the page (header links, "Sign out") stays usable. Focus the block
 *   took from the editor moves to its safe button (Go back or Retry, never Take over), and goes
 *   back when the block ends, but is never held.
 * - `read-only` (a lost lock): a labelled region above the editor, which stays selectable.
 * - `notice` (`blockEditing={false}`): `role="status"`.
 * - `checking`: a quiet status without a role; the root's live region says it.
 */
export function LockOverlayPanel(props: HTMLAttributes<HTMLElement>): ReactNode {
  const context = useLockOverlayContext(PANEL_NAME);
  const { mode } = context;
  if (!context.view) return null;
  const panel = {
    ...props,
    className: classNames(LOCK_OVERLAY_PARTS.panel, props.className),
    'data-state': dataStateOf(context),
  };
  if (mode === 'checking') {
    return (
      <Backdrop state={panel['data-state']}>
        <div {...panel} />
      </Backdrop>
    );
  }
  const labelled = {
    ...panel,
    'aria-labelledby': context.titleId,
    'aria-describedby': context.descriptionId,
  };
  if (mode === 'notice') return <div {...labelled} role="status" />;
  // A <section> with a name is a region landmark.
  if (mode === 'read-only') return <section {...labelled} tabIndex={-1} />;
  if (context.scope === 'page') return <ModalDialog {...labelled} />;
  return (
    <Backdrop state={panel['data-state']}>
      <BlockingRegion {...labelled} />
    </Backdrop>
  );
}

function Backdrop(props: { state: string; children: ReactNode }): ReactNode {
  return (
    <div className={LOCK_OVERLAY_PARTS.backdrop} data-state={props.state}>
      {props.children}
    </div>
  );
}

/** Focuses the button that does no harm when pressed by accident, else the panel itself. */
function focusSafeAction(panel: HTMLElement): void {
  (panel.querySelector<HTMLElement>('[data-safe]') ?? panel).focus();
}

function isNowhere(element: Element | null): boolean {
  return element === null || element === element.ownerDocument.body;
}

/** The block over the wrapped editor: moves the focus it took, never holds it. */
function BlockingRegion(props: HTMLAttributes<HTMLElement>): ReactNode {
  const context = useLockOverlayContext(PANEL_NAME);
  const { contentRef } = context;
  const ref = useRef<HTMLElement>(null);
  const returnFocusTo = useRef<Element | null>(null);

  useEffect(() => {
    const panel = ref.current;
    if (!panel) return;
    const ownerDocument = panel.ownerDocument;
    const focused = ownerDocument.activeElement;
    // StrictMode runs this twice; in a browser the second run finds focus inside already (the
    // first cleanup could not focus the now-inert editor), so keep the first answer.
    if (!panel.contains(focused)) returnFocusTo.current = focused;
    // Focus the block took away (from the editor, now inert): focus elsewhere on the page, a
    // header link say, stays where the user put it.
    if (isNowhere(focused) || contentRef.current?.contains(focused)) focusSafeAction(panel);
    return () => {
      // Only when focus is still ours to give back: the user may have moved on.
      const now = ownerDocument.activeElement;
      const before = returnFocusTo.current;
      if ((isNowhere(now) || panel.contains(now)) && before instanceof HTMLElement) before.focus();
    };
  }, [contentRef]);

  // When the buttons change under the block (locked → error), the focused one may be gone and
  // focus has fallen back to <body>: bring it back in.
  const state = dataStateOf(context);
  useEffect(() => {
    const panel = ref.current;
    if (panel && state && isNowhere(panel.ownerDocument.activeElement)) focusSafeAction(panel);
  }, [state]);

  return <section {...props} ref={ref} tabIndex={-1} />;
}

/** The block over the whole page: the platform's modal dialog. */
function ModalDialog(props: HTMLAttributes<HTMLElement>): ReactNode {
  const ref = useRef<HTMLDialogElement>(null);
  // A layout effect, so that its cleanup closes the dialog before React removes it: closing is
  // what gives focus back to where it was before.
  useLayoutEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    openModal(dialog);
    focusSafeAction(dialog);
    return () => {
      if (dialog.close) dialog.close();
      else dialog.open = false;
    };
  }, []);
  return (
    <dialog
      {...props}
      ref={ref}
      tabIndex={-1}
      // Escape is a close request; "none" makes the browser ignore it (Chromium 134+).
      closedby="none"
      // Elsewhere it arrives as `cancel`, which may be refused...
      onCancel={(event) => event.preventDefault()}
      // ...except when the user has not interacted since the last one (the close watcher's
      // anti-abuse rule): then it closes, and the block opens again.
      onClose={(event) => {
        if (event.currentTarget.isConnected) openModal(event.currentTarget);
      }}
    />
  );
}

function openModal(dialog: HTMLDialogElement): void {
  if (dialog.open) return;
  // jsdom (where many apps' tests run) has no showModal: there it is only open.
  if (dialog.showModal) dialog.showModal();
  else dialog.open = true;
}
