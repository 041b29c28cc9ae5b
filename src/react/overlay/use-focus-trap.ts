'use client';

import { type RefObject, useEffect, useRef } from 'react';
import {
  type ActiveFocusTrap,
  activateFocusTrap,
  currentFocusTrap,
  deactivateFocusTrap,
  isInsideActiveFocusTrap,
} from './focus-trap-stack';

const TABBABLE = [
  'a[href]',
  'area[href]',
  'button:not([disabled])',
  'input:not([disabled]):not([type="hidden"])',
  'select:not([disabled])',
  'textarea:not([disabled])',
  'iframe',
  'audio[controls]',
  'video[controls]',
  '[contenteditable]:not([contenteditable="false"])',
  '[tabindex]',
].join(',');

/** The elements inside `container` that Tab reaches, in document order. */
export function tabbableElements(container: HTMLElement): HTMLElement[] {
  return Array.from(container.querySelectorAll<HTMLElement>(TABBABLE)).filter(
    (element) =>
      element.tabIndex >= 0 && !element.closest('[inert]') && !element.closest('[hidden]'),
  );
}

/** How the overlay holds focus. */
export interface FocusTrapOptions {
  /** Move focus into the container now, and give it back when this turns false. */
  active: boolean;
  /** Also keep it inside (a modal); otherwise focus may leave (a non-modal dialog). */
  trap: boolean;
  /** Change it when the content is swapped, so focus that fell out with a removed button comes back in. */
  contentKey?: string;
}

/**
 * While `active`: moves focus into `container` (its first tabbable element, else the container,
 * which should have `tabIndex={-1}`); with `trap`, keeps Tab and Shift+Tab cycling inside it and
 * pulls focus back if it escapes (a click on a part of the page that is not inert). On
 * deactivation returns focus to where it was, as a modal dialog does
 * (https://www.w3.org/WAI/ARIA/apg/patterns/dialog-modal/).
 *
 * Several overlays in one document (two editors side by side) share one stack of active traps:
 * only the most recently activated one reacts, focus inside any active one's container is left
 * alone, and when the newest deactivates the one before it holds focus again.
 */
export function useFocusTrap(
  container: RefObject<HTMLElement | null>,
  { active, trap, contentKey }: FocusTrapOptions,
): void {
  const returnFocusTo = useRef<Element | null>(null);
  useEffect(() => {
    const element = container.current;
    if (!active || !element) return;
    const ownerDocument = element.ownerDocument;
    // StrictMode runs this twice; the second run finds focus already inside (the real browser
    // refuses to focus the now-inert editor on the first cleanup), so keep the first answer.
    if (!element.contains(ownerDocument.activeElement)) {
      returnFocusTo.current = ownerDocument.activeElement;
    }

    const focusFirst = () => (tabbableElements(element)[0] ?? element).focus();
    const self: ActiveFocusTrap = { container: element, trap, focusInside: focusFirst };
    // On the stack before focus moves in, so an older trap's `focusin` sees it is not its turn.
    activateFocusTrap(self);
    if (!element.contains(ownerDocument.activeElement)) focusFirst();

    const reacts = () => trap && currentFocusTrap(ownerDocument) === self;
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== 'Tab' || event.defaultPrevented || !reacts()) return;
      const tabbable = tabbableElements(element);
      const first = tabbable[0];
      const last = tabbable[tabbable.length - 1];
      if (!first || !last) {
        event.preventDefault();
        element.focus();
        return;
      }
      const current = ownerDocument.activeElement;
      if (event.shiftKey && (current === first || current === element)) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && current === last) {
        event.preventDefault();
        first.focus();
      }
    };
    const onFocusIn = (event: FocusEvent) => {
      if (!reacts() || !(event.target instanceof Node)) return;
      if (!isInsideActiveFocusTrap(event.target)) focusFirst();
    };

    element.addEventListener('keydown', onKeyDown);
    ownerDocument.addEventListener('focusin', onFocusIn);
    return () => {
      element.removeEventListener('keydown', onKeyDown);
      ownerDocument.removeEventListener('focusin', onFocusIn);
      deactivateFocusTrap(self);
      // Only when focus is still ours to give back: the app may have moved it on purpose.
      const focusNow = ownerDocument.activeElement;
      const focusIsOurs =
        focusNow === null || focusNow === ownerDocument.body || element.contains(focusNow);
      const previouslyFocused = returnFocusTo.current;
      if (
        focusIsOurs &&
        previouslyFocused instanceof HTMLElement &&
        previouslyFocused.isConnected
      ) {
        previouslyFocused.focus();
      }
      // An older overlay still blocking takes focus back when it found nowhere to go (the
      // element it came from is gone, or inert): moving to <body> fires no `focusin`.
      const next = currentFocusTrap(ownerDocument);
      if (next?.trap && !isInsideActiveFocusTrap(ownerDocument.activeElement)) {
        next.focusInside();
      }
    };
  }, [container, active, trap]);

  // When the content changes under an active trap (locked → lost), the focused button may be
  // gone and focus has fallen back to <body>: bring it back in, unless a newer overlay holds it.
  useEffect(() => {
    const element = container.current;
    if (!active || !element || contentKey === undefined) return;
    const ownerDocument = element.ownerDocument;
    if (currentFocusTrap(ownerDocument)?.container !== element) return;
    if (!isInsideActiveFocusTrap(ownerDocument.activeElement)) {
      (tabbableElements(element)[0] ?? element).focus();
    }
  }, [container, active, contentKey]);
}
