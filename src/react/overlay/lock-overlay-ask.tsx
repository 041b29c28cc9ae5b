'use client';

import { type HTMLAttributes, type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { MAX_ASK_MESSAGE_LENGTH } from '../../protocol/protocol';
import {
  ASK_NAME,
  classNames,
  dataStateOf,
  LOCK_OVERLAY_PARTS,
  useLockOverlayContext,
} from './lock-overlay-context';
import { askFailureOf, askViewOf, type LockOverlayAskKind } from './lock-overlay-queue-view';

/**
 * "Ask to edit", inside `<LockOverlayPanel>` of a tab blocked by another user (nothing
 * otherwise). While asking is possible (`lock.canAsk`): an optional note to the holder (at most
 * 200 characters, labelled) and "Ask to edit", which calls `lock.ask(note)`. In line: the place
 * ("You are next", "2nd in line"), what became of the request ("Waiting for Alice to answer",
 * "Alice is still editing", "Alice did not answer"), "Ask again" after a decline or no answer,
 * and "Leave the line" (`lock.leaveQueue()`). Not in line while others are: how many wait. Its
 * words change in a polite status, so the line moving up is announced. `data-state` is the
 * overlay's; `data-ask-state` says which of the three it shows (`ask`, `in-line`, `none`).
 */
export function LockOverlayAsk(props: HTMLAttributes<HTMLDivElement>): ReactNode {
  const context = useLockOverlayContext(ASK_NAME);
  const { lock, messages } = context;
  const noteId = useId();
  const [note, setNote] = useState('');
  const [asked, setAsked] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const ask = context.view?.state === 'locked' ? askViewOf(lock, messages) : null;
  useRefocusOnSwitch(ref, ask?.kind ?? null);
  if (!ask) return null;

  const state = dataStateOf(context);
  const button = (primary: boolean) => ({
    type: 'button' as const,
    className: LOCK_OVERLAY_PARTS.button,
    'data-state': state,
    'data-primary': primary ? '' : undefined,
  });
  const sendAsk = () => {
    setAsked(true);
    const message = note.trim();
    lock.ask(message === '' ? undefined : message);
  };
  const failure =
    asked && ask.kind === 'ask' && lock.askState === null ? askFailureOf(lock.error, messages) : '';
  return (
    <div
      {...props}
      ref={ref}
      className={classNames(LOCK_OVERLAY_PARTS.ask, props.className)}
      data-state={state}
      data-ask-state={ask.kind}
    >
      {ask.kind === 'ask' && (
        // Not a <form>: the overlay may sit inside the application's own form.
        <>
          <label htmlFor={noteId}>{messages.askNoteLabel({ name: ask.holderName })}</label>
          <textarea
            id={noteId}
            className={LOCK_OVERLAY_PARTS.note}
            data-state={state}
            rows={2}
            maxLength={MAX_ASK_MESSAGE_LENGTH}
            value={note}
            onChange={(event) => setNote(event.currentTarget.value)}
          />
        </>
      )}
      <div className={LOCK_OVERLAY_PARTS.queueStatus} role="status" data-state={state}>
        {ask.place && <p>{ask.place}</p>}
        {ask.request && <p>{ask.request}</p>}
        {ask.othersWaiting && <p>{ask.othersWaiting}</p>}
        {failure && <p>{failure}</p>}
      </div>
      {ask.kind !== 'none' && (
        <div className={LOCK_OVERLAY_PARTS.actions} data-state={state}>
          {ask.kind === 'ask' && (
            <button {...button(true)} data-action="ask" onClick={sendAsk}>
              {messages.askToEdit}
            </button>
          )}
          {ask.canAskAgain && (
            <button {...button(true)} data-action="ask-again" onClick={sendAsk}>
              {messages.askAgain}
            </button>
          )}
          {ask.kind === 'in-line' && (
            <button
              {...button(false)}
              data-action="leave-queue"
              onClick={() => {
                setAsked(false);
                lock.leaveQueue();
              }}
            >
              {messages.leaveQueue}
            </button>
          )}
        </div>
      )}
    </div>
  );
}

/**
 * "Ask to edit" and "Leave the line" go away when pressed, and focus with them (to `<body>`):
 * bring it to the part's first button. Not on the first render: the panel decides where focus
 * goes when it appears.
 */
function useRefocusOnSwitch(
  ref: { current: HTMLDivElement | null },
  kind: LockOverlayAskKind | null,
): void {
  const shown = useRef(kind);
  useEffect(() => {
    const before = shown.current;
    shown.current = kind;
    const part = ref.current;
    if (!part || before === null || before === kind) return;
    const focused = part.ownerDocument.activeElement;
    if (focused === null || focused === part.ownerDocument.body) {
      part.querySelector<HTMLElement>('button')?.focus();
    }
  }, [ref, kind]);
}
