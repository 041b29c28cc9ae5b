'use client';

import { QueryClient, QueryClientContext } from '@tanstack/react-query';
import { type ReactNode, useContext, useEffect, useLayoutEffect, useMemo, useRef } from 'react';
import type { AcquireMode, PageLockCallbacks } from '../client/lock-options';
import type { LockAdapter } from '../core/adapter';
import { getTabClientId } from '../core/client-id';
import type { LockUser } from '../protocol/protocol';
import { LockStatusHub } from './lock-status-hub';
import { PageLockContext, type PageLockContextValue } from './page-lock-context';
import { useLockSession } from './use-lock-session';

const useIsomorphicLayoutEffect = typeof window === 'undefined' ? useEffect : useLayoutEffect;

export interface PageLockProviderProps extends PageLockCallbacks {
  /** How to reach the lock server: `createHttpLockAdapter({ baseUrl: '/api/locks' })`. */
  adapter: LockAdapter;
  /**
   * Run the lock of this resource for the children: `usePageLock()` without arguments and
   * `<LockOverlay />` read it.
   */
  resourceId?: string;
  /** Default: the app's QueryClient from react-query's context, else one of the provider's own. */
  queryClient?: QueryClient;
  /**
   * This tab's id. Default: a random id per tab, kept across reloads. Give two providers
   * different ids to put two "tabs" of one user in one window (tests, stories).
   */
  clientId?: string;
  /** The signed-in user, when the app knows it: tells whether a lock seen later is this user's. */
  user?: LockUser | null;
  /** Default for every hook below: how often to poll, in ms (default 10 000). */
  pollInterval?: number;
  /** `false`: show a notice instead of blocking the editor (read by the overlay). Default true. */
  blockEditing?: boolean;
  /** Default for every hook below: `"mount"` (lock on open) or `"manual"` (lock on `acquire()`). */
  acquire?: AcquireMode;
  /** Default for every hook below: release after this long without input (ms, default off). */
  idleTimeout?: number;
  /** Default for every hook below: how long the idle warning shows (ms, default 60 000). */
  idleWarning?: number;
  /** Default for every hook below: `false` leaves every lock `idle`. */
  enabled?: boolean;
  children?: ReactNode;
}

/**
 * Gives the hooks and the overlay below it a lock server (`adapter`), and with `resourceId` runs
 * that resource's lock for its children. It does not re-render its children on polls: the lock
 * runs from a child that renders nothing.
 *
 * @example
 * <PageLockProvider adapter={adapter} resourceId={`page:${page.id}`} onLost={saveDraft}>
 *   <LockOverlay><Editor page={page} /></LockOverlay>
 * </PageLockProvider>
 */
export function PageLockProvider(props: PageLockProviderProps): ReactNode {
  const { adapter, resourceId, clientId, pollInterval, acquire, children } = props;
  const { idleTimeout, idleWarning } = props;
  const blockEditing = props.blockEditing ?? true;
  const enabled = props.enabled ?? true;
  if (!adapter) {
    // The example is a development hint: production builds keep the first half only.
    throw new Error(
      `[page-lock] <PageLockProvider> needs an adapter${typeof process !== 'undefined' && process.env.NODE_ENV !== 'production' ? ': <PageLockProvider adapter={createHttpLockAdapter({ baseUrl: "/api/locks" })}>.' : ''}`,
    );
  }

  const appClient = useContext(QueryClientContext);
  const ownClient = useRef<QueryClient | null>(null);
  if (!props.queryClient && !appClient && !ownClient.current) {
    ownClient.current = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  }
  const client = props.queryClient ?? appClient ?? (ownClient.current as QueryClient);

  const callbacks = useRef<PageLockCallbacks>({});
  useIsomorphicLayoutEffect(() => {
    callbacks.current = {
      onAcquired: props.onAcquired,
      onLost: props.onLost,
      onAvailable: props.onAvailable,
      onHandOver: props.onHandOver,
      onIdle: props.onIdle,
    };
  });

  // A user object made inline on each render must not restart every lock: key it by its fields.
  const userKey = props.user ? JSON.stringify(props.user) : '';
  const user = useMemo<LockUser | null>(
    () => (userKey ? (JSON.parse(userKey) as LockUser) : null),
    [userKey],
  );

  const clientIdRef = useRef(clientId);
  clientIdRef.current = clientId;
  const statusHub = useMemo(
    () =>
      new LockStatusHub({
        client,
        adapter,
        clientId: () => clientIdRef.current ?? getTabClientId(),
      }),
    [client, adapter],
  );
  useEffect(() => statusHub.setPollInterval(pollInterval), [statusHub, pollInterval]);

  const value = useMemo<PageLockContextValue>(
    () => ({
      client,
      adapter,
      clientId,
      user,
      resourceId,
      blockEditing,
      pollInterval,
      acquire,
      idleTimeout,
      idleWarning,
      enabled,
      callbacks,
      statusHub,
    }),
    [
      client,
      adapter,
      clientId,
      user,
      resourceId,
      blockEditing,
      pollInterval,
      acquire,
      idleTimeout,
      idleWarning,
      enabled,
      statusHub,
    ],
  );

  return (
    <PageLockContext.Provider value={value}>
      {resourceId !== undefined ? <LockRunner context={value} /> : null}
      {children}
    </PageLockContext.Provider>
  );
}

/** Keeps the provider's lock running; renders nothing, so polls re-render nothing. */
function LockRunner({ context }: { context: PageLockContextValue }): null {
  useLockSession(context, context.resourceId, {});
  return null;
}
