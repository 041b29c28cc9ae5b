import type { QueryClient } from '@tanstack/react-query';
import type { LockAdapter } from '../core/adapter';
import { LockSession, type LockSessionConfig, type LockSessionUser } from './lock-session';

interface Entry {
  session: LockSession;
  users: number;
  stopTimer: ReturnType<typeof setTimeout> | null;
}

/** Running sessions, per QueryClient, by adapter, tab and resource. */
const running = new WeakMap<QueryClient, Map<string, Entry>>();
/** Sessions that stopped and whose release may still be on its way. */
const stopping = new WeakMap<QueryClient, Map<string, Promise<void>>>();
const adapterIds = new WeakMap<LockAdapter, number>();
let nextAdapterId = 1;

/** A user's hold on a shared session. */
export interface RetainedLockSession {
  session: LockSession;
  /** This user leaves; the session stops one tick after the last user left. */
  release(): void;
}

/**
 * Join the session for this tab and resource, starting it when it is the first user. Every hook
 * (and the provider) on one resource shares one session, so one component unmounting does not
 * release another's lock. The session stops one tick after its last user leaves: React
 * StrictMode unmounts and mounts again at once, and that must not release the lock.
 */
export function retainLockSession(
  config: LockSessionConfig,
  user: LockSessionUser,
): RetainedLockSession {
  const key = sessionKey(config);
  const sessions = mapFor(running, config.client);
  let entry = sessions.get(key);
  let created = false;
  if (entry && !entry.session.stopped) {
    if (entry.stopTimer !== null) clearTimeout(entry.stopTimer);
    entry.stopTimer = null;
    entry.users++;
  } else {
    entry = { session: new LockSession(config), users: 1, stopTimer: null };
    sessions.set(key, entry);
    created = true;
  }
  const { session } = entry;
  const removeUser = session.addUser(user);
  if (created) {
    // A quick remount waits for the old session's release, which could kill the token it reclaims.
    session.start(mapFor(stopping, config.client).get(key));
  }
  let released = false;
  const current = entry;
  return {
    session,
    release() {
      if (released) return;
      released = true;
      removeUser();
      current.users--;
      if (current.users > 0) return;
      current.stopTimer = setTimeout(() => {
        current.stopTimer = null;
        if (current.users > 0) return;
        if (sessions.get(key) === current) sessions.delete(key);
        const stopped = current.session.stop();
        const pending = mapFor(stopping, config.client);
        pending.set(key, stopped);
        void stopped.finally(() => {
          if (pending.get(key) === stopped) pending.delete(key);
        });
      }, 0);
    },
  };
}

function sessionKey(config: LockSessionConfig): string {
  let adapterId = adapterIds.get(config.adapter);
  if (adapterId === undefined) {
    adapterId = nextAdapterId++;
    adapterIds.set(config.adapter, adapterId);
  }
  return JSON.stringify([adapterId, config.clientId, config.resourceId]);
}

function mapFor<V>(
  maps: WeakMap<QueryClient, Map<string, V>>,
  client: QueryClient,
): Map<string, V> {
  let map = maps.get(client);
  if (!map) {
    map = new Map();
    maps.set(client, map);
  }
  return map;
}
