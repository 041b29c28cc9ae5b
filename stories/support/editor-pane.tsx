import { type ReactNode, useId, useRef, useState } from 'react';
import type { LockAdapter } from '../../src/core/adapter';
import type { LockUser } from '../../src/protocol/protocol';
import { LockOverlay } from '../../src/react/overlay';
import { PageLockProvider } from '../../src/react/page-lock-provider';
import { usePageLock } from '../../src/react/use-page-lock';
import { LockStatusLine } from './lock-scene';
import { STORY_POLL_INTERVAL } from './lock-world';
import { PageEditor } from './page-editor';

/** Release (stay on the page, give the lock back) and Close tab (leave the page). */
function PaneToolbar(props: { onClose: () => void }): ReactNode {
  const { status, release } = usePageLock();
  return (
    <div className="story-toolbar">
      <button type="button" onClick={() => void release()} disabled={status !== 'held'}>
        Release
      </button>
      <button type="button" onClick={props.onClose}>
        Close tab
      </button>
    </div>
  );
}

/** Hands the pane the lock's `acquire`, for its `onAvailable`. */
function ExposeAcquire(props: { into: { current: (() => void) | null } }): null {
  props.into.current = usePageLock().acquire;
  return null;
}

/**
 * One user's browser tab, for the multi-editor stories: its own provider, adapter and tab id,
 * on a memory server the panes share. Where the library's default `onAvailable` would reload a
 * blocked tab that sees the page free (and the reloaded page would acquire it), this tab
 * acquires at once, so the hand-over shows without leaving the canvas.
 */
export function EditorPane(props: {
  user: LockUser;
  adapter: LockAdapter;
  resourceId: string;
  onAcquired?: () => void;
  onAvailable?: () => void;
}): ReactNode {
  const headingId = useId();
  const [open, setOpen] = useState(true);
  const acquire = useRef<(() => void) | null>(null);
  const name = props.user.name.split(' ')[0];
  return (
    <section className="story-pane" aria-labelledby={headingId}>
      <h2 id={headingId}>{`${name}'s tab`}</h2>
      {open ? (
        <PageLockProvider
          adapter={props.adapter}
          resourceId={props.resourceId}
          clientId={`${props.user.id}-tab`}
          pollInterval={STORY_POLL_INTERVAL}
          onAcquired={props.onAcquired}
          onAvailable={() => {
            props.onAvailable?.();
            acquire.current?.();
          }}
        >
          <ExposeAcquire into={acquire} />
          <PaneToolbar onClose={() => setOpen(false)} />
          <LockStatusLine />
          <LockOverlay>
            <PageEditor label={`${name}'s editor`} />
          </LockOverlay>
        </PageLockProvider>
      ) : (
        <p>{`${name} closed the tab.`}</p>
      )}
    </section>
  );
}
