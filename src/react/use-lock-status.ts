'use client';

import { useCallback, useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import { type LockStatusView, unknownLockStatus } from './lock-status-hub';
import { usePageLockContext } from './page-lock-context';

/**
 * Who holds a resource, without acquiring it: for badges in a list of pages. Every id watched
 * below one provider is asked about in one batch request per render batch, polled at the
 * provider's `pollInterval`.
 *
 * @example
 * const status = useLockStatus('page:42'); // { status: 'locked', holder: { name: 'Alice' }, … }
 * const all = useLockStatus(pages.map((page) => page.id)); // { 'page:1': …, 'page:2': … }
 */
export function useLockStatus(resourceId: string): LockStatusView;
export function useLockStatus(resourceIds: readonly string[]): Record<string, LockStatusView>;
export function useLockStatus(
  resourceIdOrIds: string | readonly string[],
): LockStatusView | Record<string, LockStatusView> {
  const { statusHub } = usePageLockContext('useLockStatus');
  const single = typeof resourceIdOrIds === 'string';
  const idsKey = JSON.stringify(single ? [resourceIdOrIds] : [...resourceIdOrIds]);
  const ids = useMemo(() => JSON.parse(idsKey) as string[], [idsKey]);

  useEffect(() => statusHub.watch(ids), [statusHub, ids]);

  const cache = useRef<{
    ids: readonly string[];
    views: LockStatusView[];
    result: Record<string, LockStatusView>;
  } | null>(null);
  const getSnapshot = useCallback((): Record<string, LockStatusView> => {
    const views = ids.map((id) => statusHub.view(id));
    const previous = cache.current;
    // Compared by the ids array itself: an object's keys do not keep their order (ids that look
    // like numbers come first), and a new object on every call makes React render forever.
    if (
      previous &&
      previous.ids === ids &&
      previous.views.every((view, index) => view === views[index])
    ) {
      return previous.result;
    }
    const result: Record<string, LockStatusView> = {};
    ids.forEach((id, index) => {
      result[id] = views[index] ?? unknownLockStatus();
    });
    cache.current = { ids, views, result };
    return result;
  }, [statusHub, ids]);
  const serverSnapshot = useMemo(() => {
    const result: Record<string, LockStatusView> = {};
    for (const id of ids) result[id] = unknownLockStatus();
    return result;
  }, [ids]);

  const views = useSyncExternalStore(statusHub.subscribe, getSnapshot, () => serverSnapshot);
  if (single) return views[resourceIdOrIds] ?? unknownLockStatus();
  return views;
}
