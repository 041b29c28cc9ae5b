import type { ReactNode } from 'react';
import { LockOverlay, type LockOverlayProps } from '../../src/react/overlay';
import { PageLockProvider, type PageLockProviderProps } from '../../src/react/page-lock-provider';
import { usePageLock } from '../../src/react/use-page-lock';
import { type LockWorld, STORY_POLL_INTERVAL } from './lock-world';
import { PageEditor } from './page-editor';

/** Shows `usePageLock().status` of the enclosing provider, for plays and for the reader. */
export function LockStatusLine(): ReactNode {
  const { status, reason } = usePageLock();
  return (
    <p className="story-status" data-testid="lock-status" data-status={status}>
      Lock: <strong>{status}</strong>
      {reason ? ` (${reason})` : ''}
    </p>
  );
}

export interface LockSceneProps {
  world: LockWorld;
  /** The overlay's props (the story's args). */
  overlay?: Omit<LockOverlayProps, 'children'>;
  /** Provider props beyond the world's adapter, resource, tab id and callbacks. */
  provider?: Partial<PageLockProviderProps>;
  /** The editor under the overlay; the default is {@link PageEditor}. */
  children?: ReactNode;
  /**
   * `children` (default): the overlay wraps the editor. `page`: the overlay has no children and
   * covers the whole page, the editor sits beside it.
   */
  scope?: 'children' | 'page';
}

/**
 * The story's tab: a provider on the world's resource (polling every second, with the world's
 * spies as callbacks so nothing reloads), a status line, and the overlay around an editor.
 */
export function LockScene(props: LockSceneProps): ReactNode {
  const { world } = props;
  return (
    <PageLockProvider
      adapter={world.adapter}
      resourceId={world.resourceId}
      clientId={world.clientId}
      pollInterval={STORY_POLL_INTERVAL}
      {...world.callbacks}
      {...props.provider}
    >
      <main className="story-page">
        <h1>Edit page “Contact”</h1>
        <LockStatusLine />
        {props.scope === 'page' ? (
          <>
            <LockOverlay {...props.overlay} />
            {props.children ?? <PageEditor />}
          </>
        ) : (
          <LockOverlay {...props.overlay}>{props.children ?? <PageEditor />}</LockOverlay>
        )}
      </main>
    </PageLockProvider>
  );
}
