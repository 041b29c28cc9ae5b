import { type ReactNode, useState } from 'react';
import { LockOverlay, type LockOverlayProps } from '../../src/react/overlay';
import { PageLockProvider, type PageLockProviderProps } from '../../src/react/page-lock-provider';
import { usePageLock } from '../../src/react/use-page-lock';
import { type LockWorld, STORY_POLL_INTERVAL } from './lock-world';
import { PageEditor } from './page-editor';

/**
 * The admin's own header, outside the editor: a blocked editor must leave it usable (a page-wide
 * block makes it inert). "Sign out" only counts its clicks here.
 */
export function AdminHeader(): ReactNode {
  const [signOuts, setSignOuts] = useState(0);
  return (
    <nav className="story-header" aria-label="Admin">
      <a href="#pages">All pages</a>
      <button type="button" onClick={() => setSignOuts((count) => count + 1)}>
        Sign out
      </button>
      <span className="story-sign-outs">
        Signed out <span data-testid="sign-outs">{signOuts}</span> times
      </span>
    </nav>
  );
}

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
        <AdminHeader />
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
