import type { Lock, LockUser } from '../../src/protocol/protocol';

/** What the service tells `onEvent`, for audit logs and metrics. `at` is the service's clock. */
export type LockEvent =
  /** A new grant of a free (or lapsed) resource. */
  | { type: 'acquired'; resourceId: string; lock: Lock; user: LockUser; at: number }
  /** A lease moved on: refresh, reclaim after a reload, or resume after a lapse. */
  | { type: 'refreshed'; resourceId: string; lock: Lock; user: LockUser; at: number }
  /** The holder gave it back (`by: 'holder'`), or an admin ended it (`by: 'admin'`). */
  | { type: 'released'; resourceId: string; lock: Lock; by: 'holder' | 'admin'; at: number }
  /** A lapsed lease was replaced by a new grant (noticed then: no sweeper runs). */
  | { type: 'expired'; resourceId: string; lock: Lock; at: number }
  /** `user` took the lock from `previous.holder`. */
  | {
      type: 'taken-over';
      resourceId: string;
      lock: Lock;
      previous: Lock;
      user: LockUser;
      at: number;
    }
  /** `user` asked to edit (joined the line, or asked again): `place` 1 is next. */
  | {
      type: 'asked';
      resourceId: string;
      lock: Lock;
      user: LockUser;
      place: number;
      at: number;
    }
  /** The holder answered "Keep editing" to `user`, a waiter (it keeps its place). */
  | { type: 'declined'; resourceId: string; lock: Lock; user: LockUser; at: number }
  /** The holder handed the page to `user`, a waiter: `lock` is its grant, `previous` the holder's. */
  | {
      type: 'handed-over';
      resourceId: string;
      lock: Lock;
      previous: Lock;
      user: LockUser;
      at: number;
    }
  /** The holder idled out (`idleTimeout`) and its tab released the page. */
  | { type: 'idle-released'; resourceId: string; lock: Lock; at: number }
  /** Nothing granted: the resource is held, the takeover is not allowed, or the token is dead. */
  | {
      type: 'denied';
      resourceId: string;
      lock: Lock | null;
      user: LockUser;
      action: 'acquire' | 'refresh' | 'takeover';
      at: number;
    };
