/**
 * What a race worker writes, one JSON object per line, and the auditor reads. Times are the
 * worker's lock service's `now` (epoch ms, the machine's clock, shared by all workers), exactly
 * as the service put them in the lock; `returnedAt` is that clock read after the call returned.
 */
export type RaceLogEntry =
  /** A new grant: a first acquire, or a takeover (`via: 'taken-over'`). */
  | {
      type: 'grant';
      worker: number;
      resourceId: string;
      token: string;
      fence: number;
      acquiredAt: number;
      expiresAt: number;
      /** When the call returned: the grant was committed by then. */
      returnedAt: number;
      via: 'granted' | 'taken-over';
    }
  /** The same lease moved on: a refresh, a reclaim without token, or a resume after a lapse. */
  | {
      type: 'refresh';
      worker: number;
      resourceId: string;
      token: string;
      fence: number;
      at: number;
      expiresAt: number;
      via: 'refreshed' | 'reclaimed' | 'resumed';
    }
  /** A release call and how the service answered it; `fence` is the one the worker held. */
  | {
      type: 'release';
      worker: number;
      resourceId: string;
      token: string;
      fence: number;
      /** The clock just before the call: the release was committed after it. */
      at: number;
      outcome: 'released' | 'free' | 'not-holder';
    }
  /** A call that granted nothing: `locked`, `lost:<reason>`, `fence-mismatch`, `forbidden`. */
  | {
      type: 'refused';
      worker: number;
      resourceId: string;
      action: 'acquire' | 'refresh' | 'takeover';
      at: number;
      outcome: string;
    };
