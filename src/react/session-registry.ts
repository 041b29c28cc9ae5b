import { lockScope } from '../client/lock-queries';
import { LockSession, type LockSessionConfig } from '../client/lock-session';
import type { LockSessionUser } from '../client/lock-users';

interface Entry {
  session: LockSession;
  users: number;
  stopTimer: ReturnType<typeof setTimeout> | null;
}

/**
 * Running sessions, by adapter, tab and resource. The server knows a lock by the signed-in user,
 * the tab and the resource (a second acquire of this tab reclaims it), so a tab runs one session
 * per adapter and resource whatever the QueryClient: two providers that share an adapter but each
 * made their own QueryClient share it, and one of them unmounting does not release the other's
 * lock. Two adapters are two sign-ins (Alice's and Bob's in one document): they never share one.
 */
const running = new Map<string, Entry>();
/** Stops whose release may still be on its way, by adapter, tab and resource. */
const stopping = new Map<string, Promise<void>>();

/** A user's hold on a shared session. */
export interface RetainedLockSession {
  session: LockSession;
  /** This user leaves; the session stops one tick after the last user left. */
  release(): void;
}

/**
 * Join the session for this adapter, tab and resource, starting it when it is the first user
 * (with this user's QueryClient and user). Every hook (and the provider) on one resource shares one
 * session, so one component unmounting does not release another's lock. The session stops one
 * tick after its last user leaves: React StrictMode unmounts and mounts again at once, and that
 * must not release the lock.
 */
export function retainLockSession(
  config: LockSessionConfig,
  user: LockSessionUser,
): RetainedLockSession {
  const key = JSON.stringify([lockScope(config.adapter, config.clientId), config.resourceId]);
  let entry = running.get(key);
  let created = false;
  if (entry && !entry.session.stopped) {
    if (entry.stopTimer !== null) clearTimeout(entry.stopTimer);
    entry.stopTimer = null;
    entry.users++;
  } else {
    entry = { session: new LockSession(config), users: 1, stopTimer: null };
    running.set(key, entry);
    created = true;
  }
  const { session } = entry;
  const removeUser = session.addUser(user);
  if (created) {
    // A quick remount waits for the old session's release, which could kill the token it reclaims.
    session.start(stopping.get(key));
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
        if (running.get(key) === current) running.delete(key);
        // Chained: a session that waits must also wait for any stop before this one.
        const stopped = Promise.all([stopping.get(key), current.session.stop()]).then(noop);
        stopping.set(key, stopped);
        void stopped.then(() => {
          if (stopping.get(key) === stopped) stopping.delete(key);
        });
      }, 0);
    },
  };
}

function noop(): void {}
