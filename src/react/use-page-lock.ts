'use client';

import { useCallback, useMemo, useRef, useSyncExternalStore } from 'react';
import type { PageLockOptions } from '../client/lock-options';
import { idleSnapshot, type PageLockSnapshot } from '../client/lock-snapshot';
import { resourceIdProblem } from '../protocol/protocol';
import { usePageLockContext } from './page-lock-context';
import { changedTracked, trackProperties } from './track-properties';
import type { PageLockState } from './types';
import { useLockSession } from './use-lock-session';

type PageLockActions = Omit<PageLockState, keyof PageLockSnapshot>;

const idleActions: PageLockActions = {
  acquire: () => {},
  release: async () => {},
  takeOver: async () => {},
  retry: () => {},
  recheck: async () => {},
  ask: () => {},
  leaveQueue: () => {},
  handOver: async () => {},
  decline: async () => {},
  keepEditing: () => {},
};

/**
 * The lock of one resource for this tab: acquires it when the component mounts (or on
 * `acquire()` with `acquire: "manual"`), keeps it alive, and gives it back on unmount and when
 * the page goes away. Without `resourceId` it reads the lock of the enclosing
 * `<PageLockProvider resourceId>`. Several components on one resource share one lock.
 *
 * The component re-renders only when a property it read changed: one that shows `status` and
 * `holder` is not re-rendered by a refresh that only moved `expiresAt`.
 *
 * After a save the server refused (423, or 409 `conflict`), `await recheck()` brings the state up
 * to date at once instead of at the next poll.
 *
 * @example
 * const { status, holder, token, recheck } = usePageLock('page:42', { onLost: saveDraft });
 */
export function usePageLock(resourceId?: string, options: PageLockOptions = {}): PageLockState {
  const context = usePageLockContext('usePageLock');
  const id = resourceId ?? context.resourceId;
  if (id === undefined) {
    // The fix is a development hint: production builds keep the first half only.
    throw new Error(
      `[page-lock] usePageLock() needs a resourceId${typeof process !== 'undefined' && process.env.NODE_ENV !== 'production' ? ': call usePageLock("page:42"), or give one to <PageLockProvider resourceId="page:42">.' : ''}`,
    );
  }
  const problem = resourceIdProblem(id);
  if (problem) throw new TypeError(`[page-lock] usePageLock() resourceId ${problem}`);
  const session = useLockSession(context, id, options);

  // Before the session runs (the first render, server rendering): a lock acquired on mount is
  // being checked already, so the editor is not live for a moment and then frozen.
  const checksOnMount =
    (options.enabled ?? context.enabled) && (options.acquire ?? context.acquire) !== 'manual';
  const idle = useMemo(() => idleSnapshot(id, checksOnMount), [id, checksOnMount]);
  const tracked = useRef(new Set<keyof PageLockState>()).current;
  const rendered = useRef<PageLockSnapshot | undefined>(undefined);

  const subscribe = useCallback(
    (onChange: () => void) => {
      if (!session) return () => {};
      return session.subscribe(() => {
        if (changedTracked(rendered.current, session.getSnapshot(), tracked)) onChange();
      });
    },
    [session, tracked],
  );
  const getSnapshot = session ? session.getSnapshot : () => idle;
  const snapshot = useSyncExternalStore(subscribe, getSnapshot, () => idle);
  rendered.current = snapshot;

  const actions = useMemo<PageLockActions>(
    () =>
      session
        ? {
            acquire: session.acquire,
            release: session.release,
            takeOver: session.takeOver,
            retry: session.retry,
            recheck: session.recheck,
            ask: session.ask,
            leaveQueue: session.leaveQueue,
            handOver: session.handOver,
            decline: session.decline,
            keepEditing: session.keepEditing,
          }
        : idleActions,
    [session],
  );
  return useMemo(
    () => trackProperties<PageLockState>({ ...snapshot, ...actions }, tracked),
    [snapshot, actions, tracked],
  );
}
