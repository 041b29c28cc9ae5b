import type { LockAdapter } from '../core/adapter';
import { toError } from '../core/lock-failure';
import type { LockEffect, LockEvent } from './lock-machine';

type ReleaseEffect = Extract<LockEffect, { type: 'release' }>;

export interface ReleaseRoute {
  adapter: LockAdapter;
  resourceId: string;
  /** The session's release mutation (react-query). */
  mutate(variables: { token: string; reason?: 'idle' }): Promise<unknown>;
  /** Tell the other tabs that this one gave the lock back. */
  tellOtherTabs(): void;
}

/**
 * A release as the machine asks for it, answered as its `released` event. The one path for the
 * page going away (`beacon`): a keepalive request that nobody waits for, without react-query,
 * since nothing would ever read its answer, and other tabs are told at once. Any other release
 * goes through the mutation, and other tabs hear of it once it landed. A failure is reported
 * only for a release the user asked for (`announce`).
 */
export function sendRelease(e: ReleaseEffect, route: ReleaseRoute): Promise<LockEvent> {
  const { id, token, announce, beacon, reason } = e;
  const tell = () => announce && route.tellOtherTabs();
  const released = beacon
    ? route.adapter.release(route.resourceId, token, { keepalive: true })
    : route.mutate({ token, reason });
  if (beacon) tell();
  const landed = (error?: Error): LockEvent => ({ type: 'released', id, error });
  return released.then(
    () => {
      if (!beacon) tell();
      return landed();
    },
    (error: unknown) => landed(announce ? toError(error) : undefined),
  );
}
