/**
 * What a race worker writes, one JSON object per line, and the auditor reads. All times of one
 * race are on one clock (epoch ms):
 * - a store that decides by its own clock (Redis `TIME`, Postgres `clock_timestamp()`): the
 *   times it reported (the lock's times, and the `now` each call was decided at), whatever the
 *   workers' own clocks say (they may be skewed);
 * - a store that decides by the service's clock (SQLite): the machine's clock, shared by all
 *   workers, exactly as the service put it in the lock; `returnedAt` is read after the call
 *   returned, a release's `at` before the call began.
 */
export type RaceLogEntry =
  /**
   * A new grant: a first acquire, a takeover (`via: 'taken-over'`), or a page that passed to this
   * tab from the line (`via: 'passed'`: the store granted it when the previous grant ended, at
   * `acquiredAt`; the tab took it by reclaiming, with `token`, later).
   */
  | {
      type: 'grant';
      worker: number;
      resourceId: string;
      token: string;
      fence: number;
      acquiredAt: number;
      expiresAt: number;
      /**
       * When the call returned: the grant was committed by then. By a store's own clock, the
       * time it decided the grant at (no later call on the resource was decided before it).
       */
      returnedAt: number;
      via: 'granted' | 'taken-over' | 'passed';
      /** The granted tab, and for `passed` the place in line it was granted by. */
      clientId?: string;
      waiterId?: string;
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
      /**
       * The clock just before the call: the release was committed after it. By a store's own
       * clock, the time it decided the release at.
       */
      at: number;
      outcome: 'released' | 'free' | 'not-holder';
    }
  /** An ask answered `queued`: the tab's place, decided at `at` (its place lasts a TTL from then). */
  | {
      type: 'queued';
      worker: number;
      resourceId: string;
      clientId: string;
      waiterId: string;
      askedAt: number;
      place: number;
      at: number;
    }
  /** The tab stopped renewing its place (it crashed or slept): it must never be granted after `placeExpiresAt`. */
  | {
      type: 'depart';
      worker: number;
      resourceId: string;
      clientId: string;
      waiterId: string;
      placeExpiresAt: number;
    }
  /** The holder handed the page to `waiterId`: the grant with `fence` must be that waiter's. */
  | {
      type: 'handed';
      worker: number;
      resourceId: string;
      waiterId: string;
      fence: number;
      at: number;
    }
  /** A grant the line made (token ''), as the store showed it, whether or not its tab took it. */
  | {
      type: 'seen';
      worker: number;
      resourceId: string;
      clientId: string;
      fence: number;
      acquiredAt: number;
    }
  /** A call that granted nothing: `locked`, `lost:<reason>`, `fence-mismatch`, `forbidden`. */
  | {
      type: 'refused';
      worker: number;
      resourceId: string;
      action: 'acquire' | 'refresh' | 'takeover' | 'ask' | 'answer';
      at: number;
      outcome: string;
    };
