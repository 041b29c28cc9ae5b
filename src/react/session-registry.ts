import type { QueryClient } from '@tanstack/react-query';
import type { LockAdapter } from '../core/adapter';
import { LockSession, type LockSessionConfig, type LockSessionUser } from './lock-session';

interface Entry {
  session: LockSession;
  users: number;
  stopTimer: ReturnType<typeof setTimeout> | null;
  /** Stop now (its last user left and its stop timer has not fired yet). */
  stopNow: () => void;
}

/** Running sessions, per QueryClient, by adapter, tab and resource. */
const running = new WeakMap<QueryClient, Map<string, Entry>>();
/**
 * By tab and resource, whatever the QueryClient or adapter: the server knows a lock by these
 * alone, so a session in another QueryClient (a remounted provider that made its own) reclaims
 * the very token these sessions are about to release.
 */
const leaving = new Map<string, Entry>();
/** Stops whose release may still be on its way, by tab and resource. */
const stopping = new Map<string, Promise<void>>();
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
  const lock = lockKey(config);
  const sessions = mapFor(running, config.client);
  let entry = sessions.get(key);
  let created = false;
  if (entry && !entry.session.stopped) {
    if (entry.stopTimer !== null) clearTimeout(entry.stopTimer);
    entry.stopTimer = null;
    if (leaving.get(lock) === entry) leaving.delete(lock);
    entry.users++;
  } else {
    // Another QueryClient's session of this lock, about to stop: stop it now, and wait below.
    leaving.get(lock)?.stopNow();
    const fresh: Entry = {
      session: new LockSession(config),
      users: 1,
      stopTimer: null,
      stopNow: () => {
        if (fresh.stopTimer !== null) clearTimeout(fresh.stopTimer);
        fresh.stopTimer = null;
        if (leaving.get(lock) === fresh) leaving.delete(lock);
        if (sessions.get(key) === fresh) sessions.delete(key);
        // Chained: a session that waits must also wait for the stops before this one.
        const stopped = Promise.all([stopping.get(lock), fresh.session.stop()]).then(noop);
        stopping.set(lock, stopped);
        void stopped.then(() => {
          if (stopping.get(lock) === stopped) stopping.delete(lock);
        });
      },
    };
    entry = fresh;
    sessions.set(key, entry);
    created = true;
  }
  const { session } = entry;
  const removeUser = session.addUser(user);
  if (created) {
    // A quick remount waits for the old session's release, which could kill the token it reclaims.
    session.start(stopping.get(lock));
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
      leaving.set(lock, current);
      current.stopTimer = setTimeout(() => {
        current.stopTimer = null;
        if (current.users === 0) current.stopNow();
      }, 0);
    },
  };
}

function lockKey(config: LockSessionConfig): string {
  return JSON.stringify([config.clientId, config.resourceId]);
}

function noop(): void {}

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
