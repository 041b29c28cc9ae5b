'use client';

import { type HTMLAttributes, type ReactNode, useId } from 'react';
import {
  classNames,
  IDLE_WARNING_NAME,
  LOCK_OVERLAY_PARTS,
  useLockOverlayContext,
} from './lock-overlay-context';
import { secondsUntil } from './lock-overlay-queue-view';
import { useServerClock } from './use-server-clock';

/** The countdown counts seconds. */
const COUNTDOWN_TICK_MS = 1_000;

/**
 * For the holder, once `idleTimeout` passed without input in the editor (`lock.idleReleaseAt`
 * set): "Are you still editing? This page will be released in 60 seconds", counting down on the
 * server's clock, with "Keep editing" (`lock.keepEditing()`; any input in the editor answers it
 * too). A labelled region beside the editor, not a dialog: it takes no focus; the overlay's
 * polite live region announces it once (not every second). `data-state="idle"`. Nothing otherwise.
 */
export function LockOverlayIdleWarning(props: HTMLAttributes<HTMLElement>): ReactNode {
  const context = useLockOverlayContext(IDLE_WARNING_NAME);
  const { lock, messages } = context;
  const titleId = useId();
  const countdownId = useId();
  const releaseAt = lock.status === 'held' ? lock.idleReleaseAt : null;
  // The clock ticks only while the warning shows.
  const serverNow = useServerClock(lock.serverTimeOffset, releaseAt !== null, COUNTDOWN_TICK_MS);
  if (releaseAt === null) return null;
  return (
    <section
      {...props}
      aria-labelledby={titleId}
      aria-describedby={countdownId}
      className={classNames(LOCK_OVERLAY_PARTS.idleWarning, props.className)}
      data-state="idle"
    >
      <p id={titleId} className={LOCK_OVERLAY_PARTS.message} data-state="idle">
        {messages.idleTitle}
      </p>
      <p id={countdownId} className={LOCK_OVERLAY_PARTS.description} data-state="idle">
        {messages.idleCountdown({ seconds: secondsUntil(releaseAt, serverNow) })}
      </p>
      <div className={LOCK_OVERLAY_PARTS.actions} data-state="idle">
        <button
          type="button"
          className={LOCK_OVERLAY_PARTS.button}
          data-action="keep-editing"
          data-state="idle"
          data-primary=""
          // The holder prompt has a "Keep editing" too: each says which question it answers.
          aria-describedby={titleId}
          onClick={() => lock.keepEditing()}
        >
          {messages.keepEditing}
        </button>
      </div>
    </section>
  );
}
