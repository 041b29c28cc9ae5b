import {
  MutationObserver,
  type QueryClient,
  type QueryFunctionContext,
  QueryObserver,
  type QueryObserverOptions,
  replaceEqualDeep,
} from '@tanstack/react-query';
import type { LockAdapter, ReleaseOutcome, TakeOverResponse } from '../core/adapter';
import { isDevelopment } from '../core/development';
import { reportLockFailure } from '../core/lock-failure';
import { getNavigation } from '../core/navigation';
import { type PageLifecycle, type PageLifecycleEvent, pageLifecycle } from '../core/page-lifecycle';
import type {
  AcquireResponse,
  HeldResponse,
  Lock,
  LockUser,
  LostReason,
  StatusResponse,
} from '../core/protocol';
import { adapterScope } from './adapter-scope';
import { setCappedTimeout } from './capped-timeout';
import { DEFAULT_POLL_INTERVAL, type PageLockOptions, type PageLockSnapshot } from './lock-options';
import type { PageLockLostReason, PageLockStatus } from './types';

/** The name of the channel that tells this browser's other tabs about a release or a takeover. */
export const LOCK_CHANNEL_NAME = 'page-lock';

/** A wall clock that ran this much further than the monotonic one means the machine slept. */
const SLEEP_GAP = 5_000;

/** The prefix of every query this library puts in the app's QueryClient. */
export const LOCK_QUERY_PREFIX = 'page-lock';

export interface LockSessionConfig {
  client: QueryClient;
  adapter: LockAdapter;
  resourceId: string;
  clientId: string;
  /** This tab's user, when the app knows it: tells `isSelf` for a lock seen in a 409. */
  user?: LockUser | null;
  /** Default: the page's lifecycle manager. */
  lifecycle?: PageLifecycle;
  /** The monotonic clock the fail-safe deadline is measured on. Default `performance.now`. */
  monotonicNow?: () => number;
}

/** One component (or provider) that uses the session; its options are read when needed. */
export interface LockSessionUser {
  options(): PageLockOptions;
}

/** What a tab broadcasts to this browser's other tabs. */
export interface LockChannelMessage {
  type: 'acquired' | 'released' | 'taken-over';
  resourceId: string;
}

/**
 * - `leasing`: acquiring, holding, re-confirming, or holding a token the server cannot confirm;
 * - `observing`: not holding, looking with GET (blocked, free, manual, or the server unreachable);
 * - `busy`: a takeover or a release is on its way;
 * - `lost`: a 409 ended our lease; nothing runs until `acquire()`/`retry()`;
 * - `paused`: the page was hidden away (`pagehide`), until it comes back (`pageshow`).
 */
type Phase = 'idle' | 'leasing' | 'observing' | 'busy' | 'lost' | 'paused' | 'stopped';

/**
 * One resource's lock for one tab: acquires it, keeps the lease alive, watches it when someone
 * else holds it, and gives it back. A plain subscribable object (no React): polling and requests
 * run through react-query's `QueryObserver`/`MutationObserver` on the app's `QueryClient`, and
 * any number of hooks read it with `subscribe`/`getSnapshot`.
 */
export class LockSession {
  readonly resourceId: string;
  readonly clientId: string;
  readonly #client: QueryClient;
  readonly #adapter: LockAdapter;
  readonly #lifecycle: PageLifecycle;
  readonly #mono: () => number;
  readonly #listeners = new Set<() => void>();
  readonly #users = new Set<LockSessionUser>();
  /** Requests whose answers may still need handling (a grant to give back); stop() waits for them. */
  readonly #pending = new Set<Promise<unknown>>();

  #phase: Phase = 'idle';
  /** Bumped on every change of phase: answers that were asked for in another one are not applied. */
  #generation = 0;
  #status: PageLockStatus = 'idle';
  #token: string | null = null;
  #lock: Lock | null = null;
  #isSelf = false;
  #canTakeOver = false;
  #reason: PageLockLostReason | null = null;
  #error: Error | null = null;
  #serverTimeOffset = 0;
  #offsetKnown = false;
  #ttlMs: number | null = null;
  #selfUserId: string | null;

  /** Held, but the tab was hidden or the machine slept: no editing until a round trip succeeds. */
  #confirming = false;
  #slept = false;
  /** When the lease would lapse, on the monotonic clock. */
  #deadline: number | null = null;
  #cancelDeadline: (() => void) | null = null;
  #lastSend: { wall: number; mono: number } | null = null;

  /** Observing: what a `free` answer means, and whether we saw someone else hold it. */
  #acquireWhenFree = false;
  #sawLocked = false;
  #reloadWhenVisible = false;

  #leaseObserver: QueryObserver<AcquireResponse> | null = null;
  #statusObserver: QueryObserver<StatusResponse | null> | null = null;
  #releaseMutation: MutationObserver<ReleaseOutcome, Error, string> | null = null;
  #takeOverMutation: MutationObserver<TakeOverResponse, Error, number> | null = null;
  #cleanups: Array<() => void> = [];
  #channel: BroadcastChannel | null = null;
  #snapshot: PageLockSnapshot;
  #stopping: Promise<void> | null = null;
  /** This session's own release, while it is on its way (it never rejects). */
  #releasing: Promise<void> | null = null;
  /**
   * First acquires and takeovers on their way. A grant one brings after the session moved on is
   * given back: an acquire sent meanwhile would reclaim that very token (same tab), and lose it.
   */
  readonly #grantsInFlight = new Set<Promise<unknown>>();
  /** `release()` was called and no acquire since: a lease of this tab seen now is given back. */
  #gaveUp = false;
  /** Manual mode since the start, waiting for `acquire()`, nobody seen holding the page. */
  #waitingForManualAcquire = false;
  /** What this tab was when the page went into the back/forward cache: it comes back as that. */
  #leftAs: LeftAs | null = null;
  /**
   * Back from the back/forward cache after holding the lock with this fence: the editor shows the
   * content of that moment, stale if anyone else held the page since (a grant beyond fence + 1).
   */
  #heldFenceBeforeCache: number | null = null;

  constructor(config: LockSessionConfig) {
    this.#client = config.client;
    this.#adapter = config.adapter;
    this.resourceId = config.resourceId;
    this.clientId = config.clientId;
    this.#lifecycle = config.lifecycle ?? pageLifecycle;
    this.#mono = config.monotonicNow ?? (() => performance.now());
    this.#selfUserId = config.user?.id ?? null;
    this.#snapshot = idleSnapshot(this.resourceId);
  }

  // ——— reading ———

  /** Listen to every change of the snapshot; returns how to stop. */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  };

  /** The current state; the same object until something in it changes. */
  getSnapshot = (): PageLockSnapshot => this.#snapshot;

  /** Whether `stop()` was called. */
  get stopped(): boolean {
    return this.#phase === 'stopped';
  }

  // ——— users ———

  /** Add a user (a hook or the provider); returns how to remove it. */
  addUser(user: LockSessionUser): () => void {
    this.#users.add(user);
    this.#syncObservers();
    this.#acquireForMountUsers();
    // The acquire mode may have changed, and with it `isChecking`.
    this.#publish();
    return () => {
      this.#users.delete(user);
      this.#syncObservers();
      this.#publish();
    };
  }

  /** The users' options changed (e.g. a smaller `pollInterval`): apply them. */
  optionsChanged(): void {
    this.#syncObservers();
    this.#acquireForMountUsers();
    this.#publish();
  }

  /**
   * A user that locks on mount joined (or switched to it) while the session sits `free` in manual
   * mode: lock now, as that user would on its own. Not after `release()` (that was a decision),
   * nor once someone else was seen holding the page (the editor's content may be stale).
   */
  #acquireForMountUsers(): void {
    if (!this.#waitingForManualAcquire || this.#status !== 'free') return;
    if (this.#acquireMode() === 'mount') this.#startLeasing();
  }

  // ——— lifetime ———

  /**
   * Start: acquire (mount mode) or observe (manual mode). `after` is a release of this same
   * resource and tab still under way: the first acquire waits for it, so that it cannot kill the
   * very token this session is about to reclaim.
   */
  start(after?: Promise<unknown>): void {
    if (this.#phase !== 'idle') return;
    // A remount must not be served the previous session's lease.
    this.#client.removeQueries({ queryKey: this.#queryPrefix() });
    this.#leaseObserver = new QueryObserver<AcquireResponse>(this.#client, this.#leaseOptions());
    this.#statusObserver = new QueryObserver<StatusResponse | null>(
      this.#client,
      this.#statusOptions(),
    );
    this.#cleanups.push(this.#leaseObserver.subscribe(noop));
    this.#cleanups.push(this.#statusObserver.subscribe(noop));
    this.#releaseMutation = new MutationObserver(this.#client, {
      mutationKey: [LOCK_QUERY_PREFIX, 'release', this.resourceId],
      mutationFn: (token: string) => this.#adapter.release(this.resourceId, token),
      retry: false,
      networkMode: 'always',
    });
    this.#takeOverMutation = new MutationObserver(this.#client, {
      mutationKey: [LOCK_QUERY_PREFIX, 'takeover', this.resourceId],
      mutationFn: (expectedFence: number) =>
        this.#adapter.takeOver(this.resourceId, { clientId: this.clientId, expectedFence }),
      retry: false,
      networkMode: 'always',
    });
    this.#cleanups.push(this.#lifecycle.subscribe(this.#onPageEvent));
    this.#openChannel();

    const begin = (): void => {
      if (this.#acquireMode() === 'mount') this.#startLeasing();
      else this.#waitForManualAcquire();
    };
    if (after) {
      this.#phase = 'busy';
      this.#setStatus(this.#acquireMode() === 'mount' ? 'acquiring' : 'free');
      const generation = this.#generation;
      after.then(noop, noop).then(() => {
        if (this.#generation === generation && this.#phase === 'busy') begin();
      });
    } else {
      begin();
    }
  }

  /**
   * Stop for good: polls cancelled, the lock given back, the channel closed. Resolves when every
   * request that could still grant or release something has settled.
   */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    const token = this.#token;
    this.#generation++;
    this.#phase = 'stopped';
    this.#token = null;
    this.#reloadWhenVisible = false;
    this.#clearDeadline();
    // Cancel refreshes in flight before releasing; a first acquire in flight is not aborted (it
    // reads no signal): its grant, if any, is given back when it arrives.
    void this.#client.cancelQueries({ queryKey: this.#queryPrefix() });
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    this.#client.removeQueries({ queryKey: this.#queryPrefix() });
    if (token) {
      this.#track(
        this.#adapter.release(this.resourceId, token).then(() => this.#broadcast('released'), noop),
      );
    }
    this.#channel?.close();
    this.#channel = null;
    this.#listeners.clear();
    this.#stopping = this.#drain();
    return this.#stopping;
  }

  // ——— actions ———

  /** Acquire now (manual mode, after `free`, or to try again after `lost`). */
  acquire = (): void => {
    if (this.#phase === 'idle' || this.#phase === 'stopped' || this.#phase === 'paused') return;
    if (this.#phase === 'leasing' || this.#phase === 'busy') return;
    this.#startLeasing();
  };

  /** Give the lock back and stay `free` (no polls are left to take it again). */
  release = async (): Promise<void> => {
    // Nothing to give back unless this tab holds the lock or is asking for it (acquiring, a
    // takeover on its way, or `error` waiting to acquire once the server answers).
    const asking =
      this.#phase === 'leasing' ||
      this.#phase === 'busy' ||
      (this.#phase === 'observing' && this.#acquireWhenFree);
    if (!asking) return;
    const token = this.#token;
    this.#cancelLeaseRequests();
    this.#token = null;
    this.#clearDeadline();
    this.#observe({ status: 'free', acquireWhenFree: false, fetchNow: false });
    this.#sawLocked = false;
    this.#gaveUp = true;
    if (!token || !this.#releaseMutation) return;
    const released = this.#releaseMutation
      .mutate(token)
      .then(() => this.#broadcast('released'))
      .catch((error: unknown) => {
        // The lease lapses on its own after the TTL; a look that still sees it gives it back.
        this.#fail(error);
        this.#publish();
      });
    this.#setReleasing(released);
    await released;
  };

  /** Take the lock from its holder ("edit here instead" when the holder is this user). */
  takeOver = async (): Promise<void> => {
    if (this.#phase === 'stopped' || this.#phase === 'idle' || this.#phase === 'paused') return;
    if (this.#status === 'held' || this.#phase === 'busy') return;
    const lock = this.#lock;
    if (!lock || !this.#takeOverMutation) {
      this.#startLeasing();
      return;
    }
    const before = this.#status;
    this.#cancelLeaseRequests();
    this.#token = null;
    this.#switchTo('busy');
    this.#setStatus('acquiring');
    const generation = this.#generation;
    const sentAt = this.#mono();
    const attempt = this.#takeOverMutation.mutate(lock.fence).then(
      (answer) => {
        if (generation !== this.#generation) return this.#giveBackStray(answer);
        if (answer.status === 'held') {
          this.#enterHeld(answer, sentAt);
          this.#broadcast('taken-over');
          return;
        }
        this.#applyServerTime(answer.now);
        this.#error = null;
        if (answer.lock) {
          this.#setLock(
            answer.lock,
            this.#isSelfHolder(answer.lock),
            answer.reason !== 'forbidden',
          );
          this.#observe({ status: 'locked', acquireWhenFree: false, fetchNow: false });
          this.#sawLocked = true;
        } else {
          this.#startLeasing();
        }
      },
      (error: unknown) => {
        if (generation !== this.#generation) return;
        // No answer: nothing changed hands. Show what was shown, with the error, and look again.
        this.#fail(error);
        if (before === 'lost') {
          this.#switchTo('lost');
          this.#setStatus('lost');
        } else {
          this.#observe({ status: 'locked', acquireWhenFree: false, fetchNow: false });
          this.#sawLocked = true;
        }
      },
    );
    this.#track(attempt);
    this.#trackGrant(attempt);
    await attempt;
  };

  /** Try again now: after `error` or `lost`, or to check a lease the server could not confirm. */
  retry = (): void => {
    switch (this.#phase) {
      case 'leasing':
        void this.#leaseObserver?.refetch({ cancelRefetch: false });
        return;
      case 'observing':
        void this.#statusObserver?.refetch({ cancelRefetch: false });
        return;
      case 'lost':
        this.#startLeasing();
        return;
      default:
        return;
    }
  };

  /**
   * Bring the lock state up to date with one round trip now; see `PageLockState.recheck`. A
   * holder refreshes with its token (a refresh already on its way is cancelled: it may have been
   * answered before whatever refused the save), anyone else looks (a look already on its way
   * counts). Resolves once the answer is applied; never rejects (a failure shows in the state).
   */
  recheck = async (): Promise<void> => {
    switch (this.#phase) {
      case 'leasing':
        if (this.#token) {
          await this.#leaseObserver?.refetch({ cancelRefetch: true });
        } else {
          // A first acquire on its way is the round trip: sending another would reclaim (and
          // kill) the token it brings.
          await this.#leaseObserver?.refetch({ cancelRefetch: false });
        }
        return;
      case 'observing':
        await this.#statusObserver?.refetch({ cancelRefetch: false });
        return;
      case 'busy': {
        // A takeover or a release (or the wait for one) is on its way: its answer is the news.
        await Promise.allSettled([...this.#pending]);
        // It led to a first acquire (a release landed): that acquire's answer is the news.
        if (this.#firstAcquireRunning()) await this.recheck();
        return;
      }
      default:
        // `lost` is final until `acquire()`/`retry()`; idle, paused and stopped have no lock.
        return;
    }
  };

  #firstAcquireRunning(): boolean {
    return this.#phase === 'leasing' && this.#token === null;
  }

  // ——— phases ———

  #startLeasing(): void {
    this.#token = null;
    this.#confirming = false;
    this.#reason = null;
    this.#gaveUp = false;
    const releasing = this.#givingBack();
    if (releasing) {
      // An acquire now could reclaim the very token that release (or give-back) is about to kill.
      this.#switchTo('busy');
      this.#setStatus('acquiring');
      const generation = this.#generation;
      void releasing.then(() => {
        if (this.#generation === generation) this.#startLeasing();
      });
      return;
    }
    this.#switchTo('leasing');
    this.#setStatus('acquiring');
  }

  #waitForManualAcquire(): void {
    this.#observe({ status: 'free', acquireWhenFree: false, fetchNow: true });
    this.#waitingForManualAcquire = true;
  }

  #observe(options: { status: PageLockStatus; acquireWhenFree: boolean; fetchNow: boolean }): void {
    this.#acquireWhenFree = options.acquireWhenFree;
    this.#confirming = false;
    if (options.status !== 'locked') this.#reason = null;
    if (options.status === 'free') this.#setLock(null, false, false);
    this.#switchTo('observing', options.fetchNow ? {} : { status: null });
    this.#setStatus(options.status);
  }

  /**
   * Enter `phase` under a new generation: the observers move to new query keys (so nothing of
   * the previous phase is deduplicated with or applied to this one) and are enabled as needed.
   * A seed pre-fills the new query, so that it waits one interval before its first request
   * (the answer that led here already told what a request would).
   */
  #switchTo(
    phase: Phase,
    seed: { status?: StatusResponse | null; lease?: HeldResponse } = {},
  ): void {
    this.#generation++;
    this.#phase = phase;
    this.#waitingForManualAcquire = false;
    if (seed.status !== undefined) this.#client.setQueryData(this.#statusKey(), seed.status);
    if (seed.lease !== undefined) this.#client.setQueryData(this.#leaseKey(), seed.lease);
    this.#syncObservers();
  }

  #syncObservers(): void {
    if (this.#phase === 'stopped') return;
    this.#leaseObserver?.setOptions(this.#leaseOptions());
    this.#statusObserver?.setOptions(this.#statusOptions());
  }

  #enterHeld(answer: HeldResponse, sentAt: number): void {
    const wasHeld = this.#status === 'held' || this.#confirming;
    this.#token = answer.token;
    this.#gaveUp = false;
    // A takeover's grant: the new lease query starts with it instead of an immediate refresh.
    if (this.#phase !== 'leasing') this.#switchTo('leasing', { lease: answer });
    this.#selfUserId = answer.lock.holder.id;
    this.#setLock(answer.lock, false, false);
    this.#ttlMs = answer.ttlMs;
    this.#applyServerTime(answer.now);
    this.#reason = null;
    this.#error = null;
    this.#confirming = false;
    this.#slept = false;
    this.#deadline = sentAt + (answer.lock.expiresAt - answer.now);
    if (this.#deadline <= this.#mono() && (wasHeld || this.#status === 'lost')) {
      // Answered later than the lease it gives would last: it may have lapsed already. As when
      // the deadline passes: not the holder, token kept, trying again at the next poll.
      this.#cancelDeadline?.();
      this.#cancelDeadline = null;
      this.#syncObservers();
      this.#leaseRanOut();
      return;
    }
    this.#armDeadline();
    this.#setStatus('held');
    this.#syncObservers();
    if (!wasHeld) {
      // List views in this browser's other tabs show the new holder at once.
      this.#broadcast('acquired');
      this.#runCallbacks('onAcquired');
    }
  }

  /** `isSelf`: the server's word that the lock's holder is this user (another tab of theirs). */
  #enterLost(reason: PageLockLostReason, lock: Lock | null, isSelf?: boolean): void {
    const wasLost = this.#status === 'lost';
    this.#token = null;
    this.#clearDeadline();
    this.#confirming = false;
    this.#reason = reason;
    this.#setLock(lock, lock !== null && (isSelf ?? this.#isSelfHolder(lock)), false);
    if (lock) this.#canTakeOver = this.#isSelf;
    this.#switchTo('lost');
    this.#setStatus('lost');
    if (!wasLost) this.#runCallbacks('onLost');
  }

  /** The lease ran out while the server could not confirm it: stop editing, keep trying. */
  #leaseRanOut(): void {
    if (this.#phase !== 'leasing' || !this.#token) return;
    this.#confirming = false;
    this.#reason = 'unreachable';
    const wasLost = this.#status === 'lost';
    this.#setStatus('lost');
    if (!wasLost) this.#runCallbacks('onLost');
  }

  // ——— queries ———

  #queryPrefix(): readonly unknown[] {
    return [LOCK_QUERY_PREFIX, this.clientId, this.resourceId, adapterScope(this.#adapter)];
  }

  #leaseKey(): readonly unknown[] {
    return [...this.#queryPrefix(), 'lease', this.#generation];
  }

  #statusKey(): readonly unknown[] {
    return [...this.#queryPrefix(), 'status', this.#generation];
  }

  #leaseOptions(): QueryObserverOptions<AcquireResponse> {
    return {
      queryKey: this.#leaseKey(),
      queryFn: this.#leaseFn,
      enabled: this.#phase === 'leasing',
      // Fresh until told otherwise: polls come from refetchInterval, never from staleness.
      staleTime: Number.POSITIVE_INFINITY,
      gcTime: 0,
      // Off without a token: only a holder refreshes; anyone else looks with GET.
      refetchInterval: () =>
        this.#phase === 'leasing' && this.#token ? this.#pollInterval() : false,
      refetchIntervalInBackground: true,
      refetchOnWindowFocus: false,
      refetchOnReconnect: false,
      refetchOnMount: false,
      retry: false,
      networkMode: 'always',
      structuralSharing: false,
    };
  }

  #statusOptions(): QueryObserverOptions<StatusResponse | null> {
    return {
      queryKey: this.#statusKey(),
      queryFn: this.#statusFn,
      enabled: this.#phase === 'observing',
      staleTime: Number.POSITIVE_INFINITY,
      gcTime: 0,
      refetchInterval: () => (this.#phase === 'observing' ? this.#pollInterval() : false),
      refetchIntervalInBackground: true,
      refetchOnWindowFocus: false,
      refetchOnReconnect: false,
      refetchOnMount: false,
      retry: false,
      networkMode: 'always',
      structuralSharing: false,
    };
  }

  #leaseFn = (context: QueryFunctionContext): Promise<AcquireResponse> => {
    const firstAcquire = this.#token === null;
    const request = this.#track(this.#lease(context));
    if (firstAcquire) this.#trackGrant(request);
    return request;
  };

  async #lease(context: QueryFunctionContext): Promise<AcquireResponse> {
    const generation = this.#generation;
    const token = this.#token;
    // Only a refresh may be aborted: a first acquire runs to its end, so that a grant that
    // arrives after a release can be given back instead of lingering until the TTL.
    const signal = token ? context.signal : undefined;
    this.#noticeSleep();
    const sentAt = this.#mono();
    const sentAtWall = Date.now();
    let answer: AcquireResponse;
    try {
      answer = await this.#adapter.acquire(
        this.resourceId,
        token ? { clientId: this.clientId, token } : { clientId: this.clientId },
        signal ? { signal } : undefined,
      );
    } catch (error) {
      if (generation === this.#generation && !signal?.aborted) this.#leaseFailed(toError(error));
      throw error;
    }
    if (generation !== this.#generation || token !== this.#token) {
      await this.#giveBackStray(answer);
      return answer;
    }
    if (answer.status === 'held' && Date.now() - sentAtWall - (this.#mono() - sentAt) > SLEEP_GAP) {
      // The machine slept while this answer was on its way, and the monotonic clock may have
      // stood still: the server may have answered before the sleep and the lease lapsed since.
      // Keep the token and ask again; this next request is the round trip that confirms it.
      this.#token = answer.token;
      return this.#lease(context);
    }
    const heldFenceBeforeCache = token ? null : this.#heldFenceBeforeCache;
    if (!token) this.#heldFenceBeforeCache = null;
    switch (answer.status) {
      case 'held':
        if (heldFenceBeforeCache !== null && answer.lock.fence > heldFenceBeforeCache + 1) {
          // Someone else held the page while this one sat in the cache: its content is stale.
          this.#applyServerTime(answer.now);
          await this.#giveBackStray(answer);
          if (generation === this.#generation) this.#enterLost('edited-meanwhile', null);
          break;
        }
        this.#enterHeld(answer, sentAt);
        break;
      case 'locked':
        this.#ttlMs = answer.ttlMs;
        this.#applyServerTime(answer.now);
        this.#error = null;
        this.#setLock(answer.lock, answer.isSelf, answer.canTakeOver);
        this.#observe({ status: 'locked', acquireWhenFree: false, fetchNow: false });
        this.#sawLocked = true;
        break;
      case 'lost':
        this.#applyServerTime(answer.now);
        this.#enterLost(answer.reason, answer.lock ?? null, answer.isSelf);
        break;
    }
    return answer;
  }

  #leaseFailed(error: Error): void {
    this.#fail(error);
    if (!this.#token) {
      // Not holding and no answer: `error`; keep looking with GET and acquire once it is free.
      this.#observe({ status: 'error', acquireWhenFree: true, fetchNow: false });
      return;
    }
    if (this.#confirming && this.#slept) {
      // After a sleep the monotonic deadline cannot be trusted: the lease may well have lapsed.
      this.#leaseRanOut();
      return;
    }
    // Still `held` until the deadline (or still re-confirming); the deadline timer decides.
    this.#publish();
  }

  #statusFn = (): Promise<StatusResponse | null> => this.#track(this.#look());

  async #look(): Promise<StatusResponse | null> {
    const generation = this.#generation;
    let answer: StatusResponse;
    try {
      answer = await this.#adapter.status(this.resourceId, { clientId: this.clientId });
    } catch (error) {
      if (generation === this.#generation) {
        this.#fail(error);
        this.#setStatus('error');
      }
      throw error;
    }
    if (generation !== this.#generation) return answer;
    this.#ttlMs = answer.ttlMs;
    this.#applyServerTime(answer.now);
    this.#error = null;
    switch (answer.status) {
      case 'free':
        if (this.#acquireWhenFree) {
          this.#startLeasing();
          break;
        }
        this.#setLock(null, false, false);
        this.#setStatus('free');
        if (this.#sawLocked) {
          this.#sawLocked = false;
          this.#runCallbacks('onAvailable');
        }
        break;
      case 'held':
        if (this.#releasing || this.#grantsInFlight.size > 0) {
          // Our own release (or the give-back of a late grant) has not landed yet: as good as free.
          this.#setLock(null, false, false);
          this.#setStatus('free');
          break;
        }
        if (this.#gaveUp) {
          // Released, but the release got no answer (or a grant's answer was lost): give it back.
          this.#setReleasing(
            this.#adapter
              .acquire(this.resourceId, { clientId: this.clientId })
              .then((reclaimed) => this.#giveBackStray(reclaimed))
              .then(() => this.#broadcast('released'), noop),
          );
          this.#setLock(null, false, false);
          this.#setStatus('free');
          break;
        }
        // This tab still holds it (a reload, a bfcache return): reclaim the token.
        this.#startLeasing();
        break;
      case 'locked':
        this.#setLock(answer.lock, answer.isSelf, answer.canTakeOver);
        this.#sawLocked = true;
        this.#waitingForManualAcquire = false;
        // Someone holds it now: when it frees up this tab is told, it does not grab it.
        this.#acquireWhenFree = false;
        this.#setStatus('locked');
        break;
    }
    this.#syncObservers();
    return answer;
  }

  /** A grant that arrived after its session moved on: give it back unless it is still ours. */
  async #giveBackStray(answer: AcquireResponse | TakeOverResponse): Promise<void> {
    if (answer.status !== 'held' || answer.token === this.#token) return;
    await this.#adapter.release(this.resourceId, answer.token).catch(noop);
  }

  #setReleasing(releasing: Promise<void>): void {
    this.#track(releasing);
    this.#releasing = releasing;
    void releasing.then(() => {
      if (this.#releasing === releasing) this.#releasing = null;
    });
  }

  #trackGrant(request: Promise<unknown>): void {
    this.#grantsInFlight.add(request);
    const forget = (): void => {
      this.#grantsInFlight.delete(request);
    };
    request.then(forget, forget);
  }

  /** What must land before this tab acquires again, or null when nothing is on its way. */
  #givingBack(): Promise<unknown> | null {
    const waits: Promise<unknown>[] = [...this.#grantsInFlight];
    if (this.#releasing) waits.push(this.#releasing);
    return waits.length > 0 ? Promise.allSettled(waits) : null;
  }

  #cancelLeaseRequests(): void {
    void this.#client.cancelQueries({ queryKey: [...this.#queryPrefix(), 'lease'] });
  }

  // ——— environment ———

  #onPageEvent = (event: PageLifecycleEvent): void => {
    switch (event.type) {
      case 'visibilitychange':
        if (!event.visible) return;
        if (this.#reloadWhenVisible) {
          this.#reloadWhenVisible = false;
          getNavigation().reload();
        }
        // Timers were throttled while hidden: edit again only once the server confirms.
        if (!this.#reconfirm()) this.#refetchNow();
        return;
      case 'online':
        this.#refetchNow();
        return;
      case 'pagehide':
        this.#pageHide();
        return;
      case 'pageshow':
        if (event.persisted && this.#phase === 'paused') this.#comeBack();
        return;
    }
  };

  /** The page is going away: polls cancelled first, then the lease given back by beacon. */
  #pageHide(): void {
    if (this.#phase === 'stopped' || this.#phase === 'idle' || this.#phase === 'paused') return;
    const token = this.#token;
    this.#leftAs = this.#describeForCache();
    this.#cancelLeaseRequests();
    this.#token = null;
    this.#clearDeadline();
    this.#reloadWhenVisible = false;
    this.#switchTo('paused');
    this.#setLock(null, false, false);
    this.#setStatus('idle');
    if (token) {
      this.#track(this.#adapter.release(this.resourceId, token, { keepalive: true }).catch(noop));
      this.#broadcast('released');
    }
  }

  #describeForCache(): LeftAs {
    if (this.#token && this.#lock) return { kind: 'holder', fence: this.#lock.fence };
    if (this.#phase === 'lost') {
      return { kind: 'lost', reason: this.#reason, lock: this.#lock, isSelf: this.#isSelf };
    }
    if (this.#phase === 'observing' && this.#sawLocked && this.#lock) {
      return { kind: 'blocked', lock: this.#lock, canTakeOver: this.#canTakeOver };
    }
    return { kind: 'other' };
  }

  /** Back from the back/forward cache (`pageshow` with `persisted`): go on as what it left as. */
  #comeBack(): void {
    const left = this.#leftAs ?? { kind: 'other' };
    this.#leftAs = null;
    switch (left.kind) {
      case 'holder':
        this.#heldFenceBeforeCache = left.fence;
        this.#startLeasing();
        return;
      case 'lost':
        // Still stale, still nothing to poll.
        this.#reason = left.reason;
        this.#setLock(left.lock, left.isSelf, false);
        this.#switchTo('lost');
        this.#setStatus('lost');
        return;
      case 'blocked':
        // A blocked tab looks, never acquires: when the page is free it reloads (`onAvailable`).
        this.#setLock(left.lock, this.#isSelfHolder(left.lock), left.canTakeOver);
        this.#observe({ status: 'locked', acquireWhenFree: false, fetchNow: true });
        this.#sawLocked = true;
        return;
      case 'other':
        if (this.#acquireMode() === 'mount') this.#startLeasing();
        else this.#waitForManualAcquire();
        return;
    }
  }

  #refetchNow(): void {
    if (this.#phase === 'leasing') void this.#leaseObserver?.refetch({ cancelRefetch: false });
    if (this.#phase === 'observing') void this.#statusObserver?.refetch({ cancelRefetch: false });
  }

  #openChannel(): void {
    if (typeof BroadcastChannel !== 'function') return;
    try {
      this.#channel = new BroadcastChannel(LOCK_CHANNEL_NAME);
    } catch {
      return;
    }
    this.#channel.onmessage = (event: MessageEvent<unknown>) => {
      const message = event.data as Partial<LockChannelMessage> | null;
      if (!message || message.resourceId !== this.resourceId) return;
      if (this.#phase === 'observing') this.#refetchNow();
      if (this.#phase === 'leasing' && this.#token && message.type === 'taken-over') {
        this.#refetchNow();
      }
    };
  }

  #broadcast(type: LockChannelMessage['type']): void {
    const message: LockChannelMessage = { type, resourceId: this.resourceId };
    if (this.#channel) {
      this.#channel.postMessage(message);
      return;
    }
    // Stopped already: a short-lived channel still tells the other tabs.
    if (typeof BroadcastChannel !== 'function') return;
    try {
      const channel = new BroadcastChannel(LOCK_CHANNEL_NAME);
      channel.postMessage(message);
      channel.close();
    } catch {
      // No channel: other tabs find out on their next poll.
    }
  }

  // ——— fail-safe ———

  #armDeadline(): void {
    this.#cancelDeadline?.();
    const deadline = this.#deadline;
    if (deadline === null) return;
    const delay = Math.max(0, deadline - this.#mono());
    const armedAt = Date.now();
    this.#cancelDeadline = setCappedTimeout(() => {
      this.#cancelDeadline = null;
      if (this.#mono() >= deadline) {
        this.#leaseRanOut();
        return;
      }
      // A timer that fires far later than asked means the machine slept, and the monotonic
      // clock may have slept with it: edit again only once the server confirms the lease.
      if (Date.now() - armedAt - delay > SLEEP_GAP) {
        this.#slept = true;
        this.#reconfirm();
      }
      this.#armDeadline();
    }, delay);
  }

  #clearDeadline(): void {
    this.#cancelDeadline?.();
    this.#cancelDeadline = null;
    this.#deadline = null;
  }

  /** Before each refresh: did the wall clock run ahead of the monotonic one (a sleep)? */
  #noticeSleep(): void {
    const now = { wall: Date.now(), mono: this.#mono() };
    const last = this.#lastSend;
    this.#lastSend = now;
    if (!last || !this.#token) return;
    if (now.wall - last.wall - (now.mono - last.mono) > SLEEP_GAP) {
      this.#slept = true;
      // This very request is the round trip that confirms the lease.
      if (this.#status === 'held') {
        this.#confirming = true;
        this.#setStatus('acquiring');
      }
    }
  }

  /** While held: stop editing until a refresh, sent now, comes back. */
  #reconfirm(): boolean {
    if (this.#phase !== 'leasing' || !this.#token || this.#status !== 'held') return false;
    this.#confirming = true;
    this.#setStatus('acquiring');
    void this.#leaseObserver?.refetch({ cancelRefetch: false });
    return true;
  }

  // ——— settings and callbacks ———

  #acquireMode(): 'mount' | 'manual' {
    for (const user of this.#users) if (user.options().acquire !== 'manual') return 'mount';
    return this.#users.size === 0 ? 'mount' : 'manual';
  }

  #pollInterval(): number {
    let interval = Number.POSITIVE_INFINITY;
    for (const user of this.#users) {
      const asked = user.options().pollInterval;
      if (asked !== undefined && Number.isFinite(asked) && asked > 0) {
        interval = Math.min(interval, asked);
      }
    }
    if (interval === Number.POSITIVE_INFINITY) interval = DEFAULT_POLL_INTERVAL;
    if (this.#ttlMs !== null) {
      const ceiling = Math.max(1, Math.floor(this.#ttlMs / 3));
      if (interval > ceiling) {
        warnOnce(
          `[page-lock] [usePageLock] pollInterval ${interval} ms is more than a third of the server's ttl (${this.#ttlMs} ms); polling every ${ceiling} ms so a lease survives a missed poll`,
        );
        interval = ceiling;
      }
    }
    return interval;
  }

  #runCallbacks(name: 'onAcquired' | 'onLost' | 'onAvailable'): void {
    const callbacks = new Set<(state: PageLockSnapshot) => void>();
    for (const user of this.#users) {
      const callback = user.options()[name];
      if (callback) callbacks.add(callback);
    }
    if (name === 'onAvailable' && callbacks.size === 0) {
      // The default: reload so the editor shows what the other person saved, but never in a
      // background tab (it would take the lock nobody is using).
      if (this.#lifecycle.isVisible()) getNavigation().reload();
      else this.#reloadWhenVisible = true;
      return;
    }
    const state = this.#snapshot;
    for (const callback of callbacks) {
      try {
        callback(state);
      } catch (error) {
        reportError(error);
      }
    }
  }

  // ——— state ———

  #isSelfHolder(lock: Lock): boolean {
    return this.#selfUserId !== null && lock.holder.id === this.#selfUserId;
  }

  #setLock(lock: Lock | null, isSelf: boolean, canTakeOver: boolean): void {
    this.#lock = lock;
    this.#isSelf = lock !== null && isSelf;
    this.#canTakeOver = lock !== null && (canTakeOver || this.#isSelf);
  }

  #applyServerTime(serverNow: number): void {
    const offset = serverNow - Date.now();
    // Within a second is close enough for "5 minutes ago", and spares a render per poll.
    if (!this.#offsetKnown || Math.abs(offset - this.#serverTimeOffset) > 1_000) {
      this.#serverTimeOffset = offset;
      this.#offsetKnown = true;
    }
  }

  #setStatus(status: PageLockStatus): void {
    this.#status = status;
    this.#publish();
  }

  #publish(): void {
    const held = this.#status === 'held';
    const lock = this.#lock;
    const next: PageLockSnapshot = {
      status: this.#status,
      isChecking:
        this.#status === 'acquiring' && !this.#confirming && this.#acquireMode() === 'mount',
      resourceId: this.resourceId,
      holder: lock?.holder ?? null,
      since: lock?.since ?? null,
      expiresAt: lock?.expiresAt ?? null,
      lock,
      isOwner: held,
      isSelf: this.#isSelf,
      canTakeOver: this.#canTakeOver,
      reason: this.#status === 'lost' ? this.#reason : null,
      token: held || this.#status === 'lost' || this.#confirming ? this.#token : null,
      fence: held ? (lock?.fence ?? null) : null,
      error: this.#error,
      serverTimeOffset: this.#serverTimeOffset,
    };
    const shared = replaceEqualDeep(this.#snapshot, next);
    if (shared === this.#snapshot) return;
    this.#snapshot = shared;
    for (const listener of [...this.#listeners]) listener();
  }

  /** Keep an adapter's error for the state, and (in development) say what likely fixes it. */
  #fail(error: unknown): void {
    this.#error = toError(error);
    reportLockFailure(error);
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#pending.add(promise);
    const forget = (): void => {
      this.#pending.delete(promise);
    };
    promise.then(forget, forget);
    return promise;
  }

  async #drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }
}

/** What a tab was when its page went into the back/forward cache. */
type LeftAs =
  | { kind: 'holder'; fence: number }
  | { kind: 'lost'; reason: PageLockLostReason | null; lock: Lock | null; isSelf: boolean }
  | { kind: 'blocked'; lock: Lock; canTakeOver: boolean }
  | { kind: 'other' };

/** The state of a lock that is not running (disabled, not started, or server rendering). */
export function idleSnapshot(resourceId: string | undefined, isChecking = false): PageLockSnapshot {
  return {
    status: 'idle',
    isChecking,
    resourceId,
    holder: null,
    since: null,
    expiresAt: null,
    lock: null,
    isOwner: false,
    isSelf: false,
    canTakeOver: false,
    reason: null,
    token: null,
    fence: null,
    error: null,
    serverTimeOffset: 0,
  };
}

const warned = new Set<string>();

function warnOnce(message: string): void {
  if (!isDevelopment() || warned.has(message)) return;
  warned.add(message);
  console.warn(message);
}

function reportError(error: unknown): void {
  const report = (globalThis as { reportError?: (error: unknown) => void }).reportError;
  if (typeof report === 'function') report(error);
  else console.error(error);
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function noop(): void {}

export type { LostReason };
