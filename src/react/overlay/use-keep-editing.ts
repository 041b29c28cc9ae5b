'use client';

import { type RefObject, useEffect, useRef } from 'react';
import type { PageLockState } from '../types';

/** At most one `keepEditing()` this often: typing sends many events a second. */
export const KEEP_EDITING_THROTTLE_MS = 1_000;

const INPUT_EVENTS = ['keydown', 'input', 'pointerdown'] as const;

/**
 * Tells the lock that the user is still editing (`lock.keepEditing()`, which holds off the idle
 * release) on keydown, input and pointerdown inside `target` (an element, or the whole document)
 * while this tab holds the lock. At most once a second, except that the first input while the idle
 * warning shows always answers it. Listens in the capture phase, so an editor that stops its
 * events still counts, and passively, so it never delays typing or scrolling.
 */
export function useKeepEditingOnInput(
  target: RefObject<EventTarget | null> | 'document',
  lock: PageLockState,
): void {
  const latest = useRef(lock);
  useEffect(() => {
    latest.current = lock;
  });
  const held = lock.status === 'held';
  useEffect(() => {
    const element = target === 'document' ? document : target.current;
    if (!held || !element) return;
    let last = Number.NEGATIVE_INFINITY;
    const onInput = () => {
      const now = Date.now();
      const warned = latest.current.idleReleaseAt !== null;
      if (!warned && now - last < KEEP_EDITING_THROTTLE_MS) return;
      last = now;
      latest.current.keepEditing();
    };
    for (const type of INPUT_EVENTS) {
      element.addEventListener(type, onInput, { capture: true, passive: true });
    }
    return () => {
      for (const type of INPUT_EVENTS)
        element.removeEventListener(type, onInput, { capture: true });
    };
  }, [target, held]);
}
