'use client';

import { type RefObject, useEffect } from 'react';

// Events that change content or send it: cancelled before the editor (or React) sees them.
const EDIT_EVENTS = ['beforeinput', 'paste', 'cut', 'drop', 'submit', 'reset'] as const;

// Keys that only move, select or copy; every other key is swallowed.
const READING_KEYS = new Set([
  'ArrowUp',
  'ArrowDown',
  'ArrowLeft',
  'ArrowRight',
  'Home',
  'End',
  'PageUp',
  'PageDown',
  'Tab',
  'Escape',
  'Shift',
  'Control',
  'Alt',
  'Meta',
  'CapsLock',
]);
// With Ctrl/Cmd: copy, select all, find.
const READING_SHORTCUTS = new Set(['c', 'a', 'f']);

// Controls a click would operate (text fields are guarded by the edit events instead).
const OPERABLE =
  'button, select, summary, label, [role="button"], [role="checkbox"], [role="switch"], ' +
  '[role="radio"], [role="menuitem"], [role="menuitemcheckbox"], [role="option"], ' +
  '[role="slider"], [role="tab"], input[type="checkbox"], input[type="radio"], ' +
  'input[type="button"], input[type="submit"], input[type="reset"], input[type="file"], ' +
  'input[type="range"], input[type="color"], input[type="image"]';

// Fields that only take text: a click there selects or places the caret, even inside a <label>
// (which OPERABLE lists for the checkboxes it would toggle). Their edits are cancelled anyway.
const TEXT_FIELD =
  'textarea, input:not([type]), input[type="text"], input[type="search"], input[type="email"], ' +
  'input[type="url"], input[type="tel"], input[type="password"], ' +
  '[contenteditable]:not([contenteditable="false"])';

/** Whether a key press only reads (moves, selects, copies) rather than edits. */
export function isReadingKey(event: KeyboardEvent): boolean {
  if (READING_KEYS.has(event.key) || /^F\d{1,2}$/.test(event.key)) return true;
  const shortcut = (event.ctrlKey || event.metaKey) && !event.altKey;
  return shortcut && READING_SHORTCUTS.has(event.key.toLowerCase());
}

/**
 * Makes `elements` read-only but still selectable, so the user can copy what they typed after
 * losing the lock. `inert` cannot do this: Chromium refuses to select text in inert content.
 * It cancels, in the capture phase, whatever edits or submits (typing, paste, cut, drop, form
 * submission, editing keys) and clicks on buttons and other controls; links still work.
 * Returns how to lift it. A best effort: composition input (IME) cannot be cancelled, and a save
 * that gets through is refused by the server anyway, since the token is dead.
 */
export function guardReadOnly(elements: readonly Element[]): () => void {
  const swallow = (event: Event) => {
    event.preventDefault();
    event.stopPropagation();
  };
  const onKeyDown = (event: Event) => {
    if (event instanceof KeyboardEvent && !isReadingKey(event)) swallow(event);
  };
  const onOperate = (event: Event) => {
    const target = event.target;
    if (target instanceof Element && target.closest(OPERABLE) && !target.matches(TEXT_FIELD)) {
      swallow(event);
    }
  };
  const listeners: Array<[string, (event: Event) => void]> = [
    ...EDIT_EVENTS.map((type) => [type, swallow] as [string, (event: Event) => void]),
    ['keydown', onKeyDown],
    ['mousedown', onOperate],
    ['click', onOperate],
  ];
  for (const element of elements) {
    for (const [type, listener] of listeners) element.addEventListener(type, listener, true);
    element.setAttribute('data-read-only', '');
  }
  return () => {
    for (const element of elements) {
      for (const [type, listener] of listeners) element.removeEventListener(type, listener, true);
      element.removeAttribute('data-read-only');
    }
  };
}

/**
 * While `active`, guards `target` ({@link guardReadOnly}); with `siblingsOf`, guards the
 * siblings of that element instead (the page-covering overlay, portalled into `<body>`).
 */
export function useReadOnlyGuard(
  target: RefObject<HTMLElement | null>,
  active: boolean,
  scope: 'element' | 'siblings',
): void {
  useEffect(() => {
    const element = target.current;
    if (!active || !element) return;
    const elements =
      scope === 'element'
        ? [element]
        : Array.from(element.parentElement?.children ?? []).filter(
            (sibling) => sibling !== element,
          );
    return guardReadOnly(elements);
  }, [target, active, scope]);
}
