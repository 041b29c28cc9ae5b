'use client';

import type { QueryClient } from '@tanstack/react-query';
import { createContext, type RefObject, useContext } from 'react';
import type { AcquireMode, PageLockCallbacks } from '../client/lock-options';
import type { LockAdapter } from '../core/adapter';
import type { LockUser } from '../protocol/protocol';
import type { LockStatusHub } from './lock-status-hub';

/** What `<PageLockProvider>` gives the hooks below it. Stable across polls. */
export interface PageLockContextValue {
  client: QueryClient;
  adapter: LockAdapter;
  /** The provider's `clientId` prop; without it, the tab's own id. */
  clientId: string | undefined;
  user: LockUser | null;
  /** The resource the provider runs the lock for, when it was given one. */
  resourceId: string | undefined;
  blockEditing: boolean;
  pollInterval: number | undefined;
  acquire: AcquireMode | undefined;
  /** Defaults of the hooks' idle release. */
  idleTimeout: number | undefined;
  idleWarning: number | undefined;
  enabled: boolean;
  /** The provider's callbacks, in a ref: new functions on each render change no context value. */
  callbacks: RefObject<PageLockCallbacks>;
  statusHub: LockStatusHub;
}

export const PageLockContext = createContext<PageLockContextValue | null>(null);
PageLockContext.displayName = 'PageLockContext';

/** The provider's context, or a clear error naming what to add. */
export function usePageLockContext(hookName: string): PageLockContextValue {
  const context = useContext(PageLockContext);
  if (!context) {
    // The fix is a development hint: production builds keep the first half only.
    throw new Error(
      `[page-lock] ${hookName}() must be used inside <PageLockProvider adapter={…}>${typeof process !== 'undefined' && process.env.NODE_ENV !== 'production' ? ': wrap your editor (or your app) in it.' : ''}`,
    );
  }
  return context;
}

/** The provider's settings the overlay needs, or null outside a provider. */
export interface PageLockSettings {
  /** The provider's `blockEditing` (default true). */
  blockEditing: boolean;
  /** The provider's `resourceId`, when it has one. */
  resourceId: string | undefined;
  /** The provider's `user`, when it was given one. */
  user: LockUser | null;
}

/**
 * The enclosing provider's settings (`blockEditing`, `resourceId`, `user`), or null outside a
 * provider. For components such as the overlay that follow the provider's defaults.
 */
export function usePageLockSettings(): PageLockSettings | null {
  const context = useContext(PageLockContext);
  if (!context) return null;
  return {
    blockEditing: context.blockEditing,
    resourceId: context.resourceId,
    user: context.user,
  };
}
