'use client';

import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { PageLockOptions } from '../client/lock-options';
import type { LockSession } from '../client/lock-session';
import type { LockSessionUser } from '../client/lock-users';
import { getTabClientId } from '../core/client-id';
import type { PageLockContextValue } from './page-lock-context';
import { retainLockSession } from './session-registry';

// useLayoutEffect warns during server rendering; nothing here runs on the server anyway.
const useIsomorphicLayoutEffect = typeof window === 'undefined' ? useEffect : useLayoutEffect;

/**
 * Joins the shared session of `resourceId` while mounted and enabled (in an effect: nothing runs
 * during server rendering), and returns it once joined. Options are read through a ref, so new
 * callback functions on each render cost nothing.
 */
export function useLockSession(
  context: PageLockContextValue,
  resourceId: string | undefined,
  options: PageLockOptions,
): LockSession | null {
  const optionsRef = useRef(options);
  useIsomorphicLayoutEffect(() => {
    optionsRef.current = options;
  });
  const user = useMemo<LockSessionUser>(
    () => ({
      options: () => {
        const own = optionsRef.current;
        const defaults = context.callbacks.current;
        return {
          pollInterval: own.pollInterval ?? context.pollInterval,
          acquire: own.acquire ?? context.acquire,
          onAcquired: own.onAcquired ?? defaults.onAcquired,
          onLost: own.onLost ?? defaults.onLost,
          onAvailable: own.onAvailable ?? defaults.onAvailable,
          onHandOver: own.onHandOver ?? defaults.onHandOver,
          onIdle: own.onIdle ?? defaults.onIdle,
          idleTimeout: own.idleTimeout ?? context.idleTimeout,
          idleWarning: own.idleWarning ?? context.idleWarning,
        };
      },
    }),
    [context],
  );

  const enabled = resourceId !== undefined && (options.enabled ?? context.enabled);
  const [session, setSession] = useState<LockSession | null>(null);
  const { client, adapter, clientId, user: lockUser } = context;
  useEffect(() => {
    if (!enabled || resourceId === undefined) {
      setSession(null);
      return;
    }
    const retained = retainLockSession(
      { client, adapter, resourceId, clientId: clientId ?? getTabClientId(), user: lockUser },
      user,
    );
    setSession(retained.session);
    return () => {
      retained.release();
    };
  }, [enabled, resourceId, client, adapter, clientId, lockUser, user]);

  const pollInterval = options.pollInterval ?? context.pollInterval;
  const acquire = options.acquire ?? context.acquire;
  const idleTimeout = options.idleTimeout ?? context.idleTimeout;
  const idleWarning = options.idleWarning ?? context.idleWarning;
  useEffect(() => {
    // A new pollInterval, acquire mode or idle timing applies to the running session.
    const given = [pollInterval, acquire, idleTimeout, idleWarning].some((v) => v !== undefined);
    if (given) session?.optionsChanged();
  }, [session, pollInterval, acquire, idleTimeout, idleWarning]);

  // A session of another resource (the id just changed) or of a disabled hook is not shown.
  return session && enabled && session.resourceId === resourceId && !session.stopped
    ? session
    : null;
}
