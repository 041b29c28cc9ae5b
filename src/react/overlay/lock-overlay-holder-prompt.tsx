'use client';

import { type HTMLAttributes, type ReactNode, useId, useState } from 'react';
import {
  classNames,
  HOLDER_PROMPT_NAME,
  LOCK_OVERLAY_PARTS,
  useLockOverlayContext,
} from './lock-overlay-context';
import { holderPromptOf } from './lock-overlay-queue-view';
import { usePendingGuard } from './use-pending-guard';

/**
 * For the holder, while someone waits in line: "Bob asks to edit this page" (with Bob's note)
 * with "Hand over" (`lock.handOver(id)`) and "Keep editing" (`lock.decline(id)`) for the first
 * pending request, and "Bob and Carol are waiting" for everyone in line; with nobody's request
 * pending, "Bob is waiting" and "Hand over" to the first. Not a dialog: a labelled region
 * (`<section>`) beside the editor that takes no focus and blocks nothing, announced once in the
 * overlay's polite live region. `data-state`: `asked` or `waiting`. Nothing otherwise.
 */
export function LockOverlayHolderPrompt(props: HTMLAttributes<HTMLElement>): ReactNode {
  const context = useLockOverlayContext(HOLDER_PROMPT_NAME);
  const { lock, messages } = context;
  const titleId = useId();
  const pending = usePendingGuard();
  const [handingOver, setHandingOver] = useState(false);
  const prompt = holderPromptOf(lock, messages);
  if (!prompt) return null;

  const { request, handOverTo } = prompt;
  const button = {
    type: 'button' as const,
    className: LOCK_OVERLAY_PARTS.button,
    'data-state': prompt.state,
    // aria-disabled rather than disabled: a disabled button drops focus.
    'aria-disabled': pending.busy || undefined,
  };
  // `onHandOver` threw (or the server could not be reached): the tab still holds the page.
  const failed = handingOver && !pending.busy && lock.error !== null;
  return (
    <section
      {...props}
      aria-labelledby={titleId}
      className={classNames(LOCK_OVERLAY_PARTS.prompt, props.className)}
      data-state={prompt.state}
    >
      <p id={titleId} className={LOCK_OVERLAY_PARTS.message} data-state={prompt.state}>
        {prompt.title}
      </p>
      {prompt.note && (
        <p className={LOCK_OVERLAY_PARTS.quote} data-state={prompt.state}>
          {prompt.note}
        </p>
      )}
      {prompt.waiting && (
        <p className={LOCK_OVERLAY_PARTS.description} data-state={prompt.state}>
          {prompt.waiting}
        </p>
      )}
      <div role="status" className={LOCK_OVERLAY_PARTS.description} data-state={prompt.state}>
        {failed ? messages.handOverFailed : ''}
      </div>
      <div className={LOCK_OVERLAY_PARTS.actions} data-state={prompt.state}>
        <button
          {...button}
          data-action="hand-over"
          data-primary=""
          onClick={() =>
            pending.run(() => {
              setHandingOver(true);
              return lock.handOver(handOverTo.id);
            })
          }
        >
          {messages.handOver}
        </button>
        {request && (
          <button
            {...button}
            data-action="keep-editing"
            aria-describedby={titleId}
            onClick={() =>
              pending.run(() => {
                setHandingOver(false);
                return lock.decline(request.id);
              })
            }
          >
            {messages.keepEditing}
          </button>
        )}
      </div>
    </section>
  );
}
