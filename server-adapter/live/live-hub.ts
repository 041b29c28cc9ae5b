import type { LockChangeKind, LockStreamEvent } from '../../src/protocol/live';
import type { Lock, LockUser } from '../../src/protocol/protocol';
import { isHolder, type LockService, type StatusResult } from '../service/lock-service';
import type { LockChange } from './lock-feed';

/** One open stream as the hub sees it: whose it is, and where its events go. */
export interface LiveWatcher {
  readonly user: LockUser;
  /**
   * One event for this watcher's user. `look` orders the looks (a larger one started later), so
   * a stream can drop a look older than one it already sent.
   */
  deliver(event: LockStreamEvent, look: number): void;
}

/** What a stream shows first: one `snapshot` event per id, and the look they came from. */
export interface LiveSnapshot {
  look: number;
  events: LockStreamEvent[];
}

/** Counts for tests and metrics (not part of the public API). */
export interface LiveHubStats {
  /** Streams open (counted from open to close, forbidden-only streams included). */
  streams: number;
  /** Resources some stream watches. */
  resources: number;
  /** Lapse timers armed. */
  timers: number;
  /** Whether the hub listens to the service's feed. */
  subscribed: boolean;
}

/**
 * The event streams of one handler, sharing one feed subscription: each change of a watched
 * resource is looked up once (one `service.get`) and shown to every stream as a GET would show
 * its user. Reads of one resource run one at a time; a change that arrives meanwhile is read
 * again after, so news delivered out of order across instances still ends at the current state.
 */
export interface LiveHub {
  /** Starts watching `ids` for `watcher` (before its snapshot is read: nothing is missed). */
  watch(watcher: LiveWatcher, ids: readonly string[]): void;
  /** Stops watching `ids` (default: all it watches) for `watcher`. Idempotent. */
  unwatch(watcher: LiveWatcher, ids?: readonly string[]): void;
  /** A fresh look at `ids` for `user`: `authorize(user, id, 'observe')` per id, one store read. */
  snapshot(user: LockUser, ids: readonly string[]): Promise<LiveSnapshot>;
  /** Counts a stream as open; false (nothing counted) when `maxStreams` are open already. */
  admitStream(): boolean;
  /** Counts a stream as closed. */
  releaseStream(): void;
  stats(): LiveHubStats;
  /** Looks again at every lease with a lapse timer now: the clock jumped (a memory server's `advance`). */
  recheckLapses(): void;
}

export interface LiveHubOptions {
  service: LockService;
  /** Open streams beyond this are refused (`admitStream` answers false). */
  maxStreams: number;
  /** Where a failed look goes (it is retried); default `console.error`. */
  onError?: (error: unknown) => void;
}

/** A lapse is looked at this long after `expiresAt`, so the store surely sees it lapsed. */
const LAPSE_SLACK_MS = 5;
/**
 * A lapse timer that found the same lease still live (this server's clock runs ahead of the
 * store's) waits at least this long before looking again, rather than spin.
 */
const SKEWED_RECHECK_MS = 250;
/** A look that failed (the store was down) is tried again after this long. */
const FAILED_LOOK_RETRY_MS = 1_000;
/** `setTimeout` fires at once beyond 2^31-1 ms: longer waits look early and rearm. */
const MAX_TIMER_MS = 2_147_483_647;

/** Why a resource is looked at: a published change, or its lapse timer. */
type LookReason = Exclude<LockChangeKind, 'snapshot' | 'lapsed'> | 'timer';

interface WatchedResource {
  readonly watchers: Set<LiveWatcher>;
  /** A look (read and fan-out) is under way; changes meanwhile wait in `again`. */
  looking: boolean;
  again: LookReason | null;
  timer: ReturnType<typeof setTimeout> | null;
  retry: ReturnType<typeof setTimeout> | null;
  /** The `expiresAt` the timer is armed for. */
  timerFor: number | null;
  /** The latest look's fence (null: free), and that look's number. */
  seenFence: number | null | undefined;
  seenLook: number;
}

/** The hubs of each service, for tests' counts (a WeakMap: nothing is kept alive by it). */
const hubsOfService = new WeakMap<LockService, Set<LiveHub>>();

/**
 * Tells every hub serving `service` that its clock jumped forward, so leases it now sees lapsed
 * are sent at once rather than at the timer set by the old clock (the memory server's `advance`).
 */
export function recheckLiveLapses(service: LockService): void {
  for (const hub of hubsOfService.get(service) ?? []) hub.recheckLapses();
}

/** Sums the stats of every hub serving `service` (tests; not exported by any entry). */
export function liveHubStats(service: LockService): LiveHubStats {
  const total: LiveHubStats = { streams: 0, resources: 0, timers: 0, subscribed: false };
  for (const hub of hubsOfService.get(service) ?? []) {
    const stats = hub.stats();
    total.streams += stats.streams;
    total.resources += stats.resources;
    total.timers += stats.timers;
    total.subscribed ||= stats.subscribed;
  }
  return total;
}

function unref(timer: ReturnType<typeof setTimeout>): void {
  // A lapse timer must not keep a process (a test, a script) alive on its own.
  (timer as { unref?: () => void }).unref?.();
}

export function createLiveHub(options: LiveHubOptions): LiveHub {
  const { service, maxStreams } = options;
  const onError =
    options.onError ??
    ((error: unknown) =>
      console.error('[page-lock] [live] A look for the event streams failed:', error));
  const resources = new Map<string, WatchedResource>();
  let streams = 0;
  let looks = 0;
  let unsubscribe: (() => void) | null = null;

  const clock = (): number => {
    try {
      return service.now();
    } catch {
      return Date.now();
    }
  };

  const report = (error: unknown): void => {
    try {
      onError(error);
    } catch {
      // A failing logger must not stop the streams.
    }
  };

  /** What a GET would show `user`, from a look without a viewer (cached per user by the caller). */
  const viewFor = async (
    user: LockUser,
    resourceId: string,
    change: LockChangeKind,
    status: StatusResult,
    now: number,
  ): Promise<LockStreamEvent> => {
    if (status.status === 'free')
      return { resourceId, change, status: 'free', ttlMs: status.ttlMs, now };
    const { lock, ttlMs } = status;
    // As a GET shows it: how many wait, when someone does (news of `asked` and `left`).
    const waiting = status.status === 'locked' && status.waiting ? { waiting: status.waiting } : {};
    const isSelf = isHolder(user, lock);
    let canTakeOver = isSelf;
    if (!isSelf) {
      try {
        canTakeOver = await service.canTakeOver(user, lock);
      } catch (error) {
        report(error);
        canTakeOver = false;
      }
    }
    return {
      resourceId,
      change,
      status: 'locked',
      lock,
      isSelf,
      canTakeOver,
      ...waiting,
      ttlMs,
      now,
    };
  };

  const fanOut = async (
    resourceId: string,
    entry: WatchedResource,
    change: LockChangeKind,
    status: StatusResult,
    now: number,
    look: number,
  ): Promise<void> => {
    const views = new Map<string, Promise<LockStreamEvent>>();
    for (const watcher of [...entry.watchers]) {
      let view = views.get(watcher.user.id);
      if (!view) {
        view = viewFor(watcher.user, resourceId, change, status, now);
        views.set(watcher.user.id, view);
      }
      const event = await view;
      // It may have closed while the view was computed.
      if (!entry.watchers.has(watcher)) continue;
      try {
        watcher.deliver(event, look);
      } catch (error) {
        report(error);
      }
    }
  };

  const clearTimer = (entry: WatchedResource): void => {
    if (entry.timer !== null) clearTimeout(entry.timer);
    entry.timer = null;
    entry.timerFor = null;
  };

  /** Arms the lapse timer for the lease seen (free: none). Nothing sweeps: this is the lapse. */
  const armLapse = (
    resourceId: string,
    entry: WatchedResource,
    lock: Lock | null,
    now: number,
    minimumMs = 0,
  ): void => {
    if (lock === null) {
      clearTimer(entry);
      return;
    }
    if (entry.timer !== null && entry.timerFor === lock.expiresAt && minimumMs === 0) return;
    clearTimer(entry);
    const wait = Math.min(
      MAX_TIMER_MS,
      Math.max(lock.expiresAt - now + LAPSE_SLACK_MS, minimumMs, LAPSE_SLACK_MS),
    );
    entry.timerFor = lock.expiresAt;
    entry.timer = setTimeout(() => {
      entry.timer = null;
      entry.timerFor = null;
      look(resourceId, 'timer');
    }, wait);
    unref(entry.timer);
  };

  const noteSeen = (entry: WatchedResource, fence: number | null, lookNumber: number): void => {
    if (lookNumber < entry.seenLook) return;
    entry.seenLook = lookNumber;
    entry.seenFence = fence;
  };

  /** One look at a resource, then the next one if changes came meanwhile. */
  const run = async (resourceId: string, entry: WatchedResource, reason: LookReason) => {
    entry.looking = true;
    const lookNumber = ++looks;
    const now = clock();
    let status: StatusResult;
    try {
      status = await service.get(resourceId);
    } catch (error) {
      entry.looking = false;
      report(error);
      if (resources.get(resourceId) === entry && entry.retry === null) {
        entry.retry = setTimeout(() => {
          entry.retry = null;
          look(resourceId, reason);
        }, FAILED_LOOK_RETRY_MS);
        unref(entry.retry);
      }
      return;
    }
    if (resources.get(resourceId) !== entry) return;
    const lock = status.status === 'free' ? null : status.lock;
    const before = entry.seenFence;
    let change: LockChangeKind | null = reason === 'timer' ? null : reason;
    if (reason === 'timer') {
      // The holder refreshed: say nothing. Free now: the lease lapsed. Another fence: a grant
      // whose news never came (a lost message).
      if (lock === null && before !== null) change = 'lapsed';
      else if (lock !== null && before !== undefined && before !== lock.fence) change = 'acquired';
    }
    noteSeen(entry, lock?.fence ?? null, lookNumber);
    const sameLeaseStillLive =
      reason === 'timer' && lock !== null && entry.timerFor === null && lock.expiresAt <= now;
    armLapse(resourceId, entry, lock, now, sameLeaseStillLive ? SKEWED_RECHECK_MS : 0);
    try {
      if (change !== null) await fanOut(resourceId, entry, change, status, now, lookNumber);
    } finally {
      entry.looking = false;
    }
    const next = entry.again;
    entry.again = null;
    if (next !== null && resources.get(resourceId) === entry) void run(resourceId, entry, next);
  };

  const look = (resourceId: string, reason: LookReason): void => {
    const entry = resources.get(resourceId);
    if (!entry) return;
    if (entry.looking) {
      // A published change says more than a timer; the latest change names the next look.
      if (reason !== 'timer' || entry.again === null) entry.again = reason;
      return;
    }
    void run(resourceId, entry, reason);
  };

  const onChange = (change: LockChange): void => {
    look(change.resourceId, change.change);
  };

  const release = (resourceId: string, entry: WatchedResource): void => {
    clearTimer(entry);
    if (entry.retry !== null) clearTimeout(entry.retry);
    entry.retry = null;
    resources.delete(resourceId);
  };

  const hub: LiveHub = {
    watch(watcher, ids) {
      for (const id of ids) {
        let entry = resources.get(id);
        if (!entry) {
          entry = {
            watchers: new Set(),
            looking: false,
            again: null,
            timer: null,
            retry: null,
            timerFor: null,
            seenFence: undefined,
            seenLook: 0,
          };
          resources.set(id, entry);
        }
        entry.watchers.add(watcher);
      }
      if (unsubscribe === null && resources.size > 0)
        unsubscribe = service.feed.subscribe(onChange);
    },

    unwatch(watcher, ids) {
      const names = ids ?? [...resources.keys()];
      for (const id of names) {
        const entry = resources.get(id);
        if (entry === undefined) continue;
        if (!entry.watchers.delete(watcher)) continue;
        if (entry.watchers.size === 0) release(id, entry);
      }
      if (resources.size === 0 && unsubscribe !== null) {
        const stop = unsubscribe;
        unsubscribe = null;
        stop();
      }
    },

    async snapshot(user, ids) {
      const lookNumber = ++looks;
      const now = clock();
      const entries = await service.getMany(ids, { user });
      const events: LockStreamEvent[] = [];
      const takeOver = new Map<string, Promise<boolean>>();
      for (const resourceId of ids) {
        const entry = entries[resourceId];
        const ttlMs = service.ttl;
        if (!entry || entry.status === 'forbidden') {
          events.push({ resourceId, change: 'snapshot', status: 'forbidden', now });
          continue;
        }
        const watched = resources.get(resourceId);
        if (entry.status === 'free') {
          if (watched) noteSeen(watched, null, lookNumber);
          events.push({ resourceId, change: 'snapshot', status: 'free', ttlMs, now });
          continue;
        }
        const { lock, isSelf } = entry;
        const waiting = entry.waiting ? { waiting: entry.waiting } : {};
        if (watched) {
          noteSeen(watched, lock.fence, lookNumber);
          // A look under way arms its own timer when it ends.
          if (!watched.looking) armLapse(resourceId, watched, lock, now);
        }
        let canTakeOver: Promise<boolean> | boolean = isSelf;
        if (!isSelf) {
          const key = `${lock.holder.id}\u0000${lock.fence}\u0000${resourceId}`;
          let decided = takeOver.get(key);
          if (!decided) {
            decided = service.canTakeOver(user, lock).catch((error: unknown) => {
              report(error);
              return false;
            });
            takeOver.set(key, decided);
          }
          canTakeOver = decided;
        }
        events.push({
          resourceId,
          change: 'snapshot',
          status: 'locked',
          lock,
          isSelf,
          canTakeOver: await canTakeOver,
          ...waiting,
          ttlMs,
          now,
        });
      }
      return { look: lookNumber, events };
    },

    admitStream() {
      if (streams >= maxStreams) return false;
      streams += 1;
      return true;
    },

    releaseStream() {
      streams = Math.max(0, streams - 1);
    },

    recheckLapses() {
      for (const [resourceId, entry] of resources) {
        if (entry.timer === null) continue;
        clearTimer(entry);
        look(resourceId, 'timer');
      }
    },

    stats() {
      let timers = 0;
      for (const entry of resources.values()) if (entry.timer !== null) timers += 1;
      return { streams, resources: resources.size, timers, subscribed: unsubscribe !== null };
    },
  };

  let hubs = hubsOfService.get(service);
  if (!hubs) {
    hubs = new Set();
    hubsOfService.set(service, hubs);
  }
  hubs.add(hub);
  return hub;
}
