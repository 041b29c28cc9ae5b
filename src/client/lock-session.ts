import { isCancelledError, MutationObserver, type QueryClient } from '@tanstack/react-query';
import type { LockAdapter, ReleaseOutcome, TakeOverResponse } from '../core/adapter';
import { reportLockFailure } from '../core/lock-failure';
import { getNavigation } from '../core/navigation';
import { type PageLifecycle, type PageLifecycleEvent, pageLifecycle } from '../core/page-lifecycle';
import type { LockUser } from '../protocol/protocol';
import { type LockChannelMessage, openLockChannel, tellOtherTabs } from './lock-channel';
import { reduce } from './lock-machine';
import { initialMachine } from './lock-phase';
import {
  ASK_ONCE,
  LOCK_QUERY_PREFIX,
  lockQueryOptions,
  lockStatusQueryOptions,
} from './lock-queries';
import { idleSnapshot, type PageLockSnapshot, sameSnapshot, snapshotOf } from './lock-snapshot';
import type { LockEffect, LockEvent, LockMachine } from './lock-state';
import { LockTimers } from './lock-timers';
import { type LockSessionUser, LockUsers, runEach } from './lock-users';

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

/**
 * One resource's lock for one tab: the runtime of the pure machine in `lock-machine.ts`. It feeds
 * the machine events (answers, timers, the page's lifecycle, other tabs, the users' actions) and
 * performs the effects it asks for: requests through react-query on the app's QueryClient
 * (`fetchQuery` for the lease and looks, mutations for release and takeover), timers, the
 * BroadcastChannel and callbacks. Hooks read it with `subscribe`/`getSnapshot`.
 */
export class LockSession {
  readonly resourceId: string;
  readonly clientId: string;
  readonly #config: LockSessionConfig;
  readonly #lifecycle: PageLifecycle;
  readonly #listeners = new Set<() => void>();
  readonly #users = new LockUsers();
  /** Work that may still grant or release something, by request id; stop() waits for it. */
  readonly #inFlight = new Map<number, Promise<unknown>>();
  readonly #quiet = new Set<() => void>();
  #machine: LockMachine;
  #snapshot: PageLockSnapshot;
  #queue: LockEvent[] = [];
  #dispatching = false;
  #after: Promise<unknown> | undefined;
  readonly #timers: LockTimers;
  #reloadWhenVisible = false;
  #channel: BroadcastChannel | null = null;
  #cleanups: Array<() => void> = [];
  #stopping: Promise<void> | null = null;
  readonly #releaser: MutationObserver<ReleaseOutcome, Error, string>;
  readonly #takerOver: MutationObserver<TakeOverResponse, Error, number>;

  constructor(config: LockSessionConfig) {
    this.#config = config;
    this.resourceId = config.resourceId;
    this.clientId = config.clientId;
    this.#lifecycle = config.lifecycle ?? pageLifecycle;
    this.#timers = new LockTimers(
      config.monotonicNow ?? (() => performance.now()),
      (event) => this.#dispatch(event),
      () => this.#users.pollInterval(this.#machine.ttlMs),
    );
    this.#machine = initialMachine('mount', config.user?.id ?? null);
    this.#snapshot = idleSnapshot(this.resourceId);
    const { client, adapter, resourceId, clientId } = config;
    this.#releaser = new MutationObserver(client, {
      mutationKey: [LOCK_QUERY_PREFIX, resourceId, 'release'],
      mutationFn: (token: string) => adapter.release(resourceId, token),
      ...ASK_ONCE,
    });
    this.#takerOver = new MutationObserver(client, {
      mutationKey: [LOCK_QUERY_PREFIX, resourceId, 'takeover'],
      mutationFn: (expectedFence: number) =>
        adapter.takeOver(resourceId, { clientId, expectedFence }),
      ...ASK_ONCE,
    });
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** The current state; the same object until something in it changes. */
  getSnapshot = (): PageLockSnapshot => this.#snapshot;

  get stopped(): boolean {
    return this.#machine.phase.kind === 'stopped';
  }

  /** Add a user (a hook or the provider); returns how to remove it. */
  addUser(user: LockSessionUser): () => void {
    this.#users.add(user);
    this.optionsChanged();
    return () => {
      this.#users.delete(user);
      this.optionsChanged();
    };
  }

  /** The users' options changed (a smaller `pollInterval`, another acquire mode): apply them. */
  optionsChanged(): void {
    this.#timers.repoll();
    this.#dispatch({ type: 'mode', mode: this.#users.acquireMode() });
  }

  /** Start; `after` is a stop of this resource and tab still under way: the first acquire waits. */
  start(after?: Promise<unknown>): void {
    if (this.#machine.phase.kind !== 'idle') return;
    this.#after = after;
    this.#cleanups.push(this.#lifecycle.subscribe(this.#onPageEvent));
    this.#channel = openLockChannel((message) => {
      if (message.resourceId !== this.resourceId || !message.type) return;
      this.#dispatch({ type: 'otherTab', message: message.type });
    });
    this.#dispatch({ type: 'start', afterPreviousStop: after !== undefined });
  }

  /** Stop for good; resolves once every request that could grant or release has settled. */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#dispatch({ type: 'stop' });
    this.#timers.stop();
    this.#reloadWhenVisible = false;
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    this.#channel?.close();
    this.#channel = null;
    this.#listeners.clear();
    this.#stopping = (async () => {
      while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight.values()]);
    })();
    return this.#stopping;
  }

  acquire = (): void => {
    this.#dispatch({ type: 'acquire' });
  };

  retry = (): void => {
    this.#dispatch({ type: 'retry' });
  };

  /** Give the lock back and stay `free`; resolves once the release landed. */
  release = async (): Promise<void> => {
    await this.#requestOf(this.#dispatch({ type: 'release' }), 'release');
  };

  /** Take the lock from its holder ("edit here instead" when the holder is this user). */
  takeOver = async (): Promise<void> => {
    await this.#requestOf(this.#dispatch({ type: 'takeOver' }), 'takeOver');
  };

  /** One round trip now (see `PageLockState.recheck`); resolves once no request is on its way. */
  recheck = async (): Promise<void> => {
    this.#dispatch({ type: 'recheck' });
    while (this.#busy()) await new Promise<void>((resolve) => this.#quiet.add(resolve));
  };

  #busy(): boolean {
    const { phase } = this.#machine;
    if (phase.kind === 'acquiring' && phase.request === null) return true;
    return 'request' in phase && phase.request !== null;
  }

  #requestOf(effects: LockEffect[], type: 'release' | 'takeOver'): Promise<unknown> | undefined {
    const effect = effects.find((e) => e.type === type);
    return effect && 'id' in effect ? this.#inFlight.get(effect.id) : undefined;
  }

  /** The one way state changes: events are reduced in order, then their effects performed. */
  #dispatch(event: LockEvent): LockEffect[] {
    this.#queue.push(event);
    if (this.#dispatching) return [];
    this.#dispatching = true;
    const performed: LockEffect[] = [];
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
        const { state, effects } = reduce(this.#machine, next);
        this.#machine = state;
        this.#publish();
        for (const effect of effects) this.#perform(effect);
        performed.push(...effects);
      }
    } finally {
      this.#dispatching = false;
    }
    if (!this.#busy())
      for (const resolve of [...this.#quiet]) this.#quiet.delete(resolve) && resolve();
    return performed;
  }

  #perform(effect: LockEffect): void {
    const { client, adapter, resourceId, clientId } = this.#config;
    const scope = { adapter, clientId };
    switch (effect.type) {
      case 'acquire': {
        if (effect.token) this.#timers.noticeSleep();
        const sent = this.#timers.now();
        const options = lockQueryOptions(resourceId, scope, effect.token);
        // The cache's copy is structurally shared with the previous answer: an unchanged holder
        // stays the same object, so a component that shows it is not rendered again.
        const request = client
          .fetchQuery(options)
          .then((raw) => client.getQueryData(options.queryKey) ?? raw);
        this.#track(effect.id, request, (answer) => {
          const at = this.#timers.now();
          const sleptInFlight = this.#timers.sleptSince(sent);
          return { type: 'leased', id: effect.id, answer, sentAt: sent.mono, at, sleptInFlight };
        });
        return;
      }
      case 'look': {
        const options = lockStatusQueryOptions(resourceId, scope);
        const request = client
          .fetchQuery(options)
          .then((raw) => client.getQueryData(options.queryKey) ?? raw);
        this.#track(effect.id, request, (answer) => ({
          type: 'looked',
          id: effect.id,
          answer,
          at: this.#timers.now(),
        }));
        return;
      }
      case 'takeOver': {
        const sentAt = this.#timers.now().mono;
        this.#track(effect.id, this.#takerOver.mutate(effect.expectedFence), (answer) => ({
          type: 'tookOver',
          id: effect.id,
          answer,
          sentAt,
          at: this.#timers.now(),
        }));
        return;
      }
      case 'release': {
        const { id, token, announce } = effect;
        const message = { type: 'released', resourceId } as const;
        // The page is going away: a beacon (or a keepalive fetch) that nobody waits for; react-
        // query is left out, since nothing would ever read its answer.
        const released = effect.beacon
          ? adapter.release(resourceId, token, { keepalive: true })
          : this.#releaser.mutate(token);
        if (effect.beacon && announce) this.#broadcast(message);
        this.#settle(
          id,
          released.then(
            () => {
              if (announce && !effect.beacon) this.#broadcast(message);
              return { type: 'released', id } as const;
            },
            (error: unknown) =>
              ({ type: 'released', id, error: announce ? toError(error) : undefined }) as const,
          ),
        );
        return;
      }
      case 'reclaimAndRelease': {
        const reclaimed = adapter.acquire(resourceId, { clientId }).then(async (answer) => {
          if (answer.status !== 'held') return;
          await adapter.release(resourceId, answer.token);
          this.#broadcast({ type: 'released', resourceId });
        });
        const done = { type: 'released', id: effect.id } as const;
        this.#settle(
          effect.id,
          reclaimed.then(
            () => done,
            () => done,
          ),
        );
        return;
      }
      case 'cancelRefresh':
        void client.cancelQueries(
          { queryKey: lockQueryOptions(resourceId, scope).queryKey, exact: true },
          // Not reverted: a cancelled refresh must not answer with the previous lease.
          { revert: false },
        );
        return;
      case 'awaitPreviousStop': {
        const done = { type: 'released', id: effect.id } as const;
        this.#settle(
          effect.id,
          Promise.resolve(this.#after).then(
            () => done,
            () => done,
          ),
        );
        return;
      }
      case 'poll':
        this.#timers.poll(effect.what);
        return;
      case 'deadline':
        this.#timers.deadline(effect.at);
        return;
      case 'broadcast':
        this.#broadcast({ type: effect.message, resourceId });
        return;
      case 'callback':
        this.#runCallbacks(effect.name);
        return;
      case 'reportFailure':
        reportLockFailure(effect.error);
        return;
    }
  }

  /** A request on its way: its answer (or failure) comes back as an event. */
  #track<T>(id: number, request: Promise<T>, toEvent: (answer: T) => LockEvent): void {
    this.#settle(
      id,
      request.then(toEvent, (error: unknown) => ({
        type: 'failed',
        id,
        error: toError(error),
        cancelled: isCancelledError(error),
      })),
    );
  }

  #settle(id: number, outcome: Promise<LockEvent>): void {
    const handled = outcome.then((event) => {
      this.#inFlight.delete(id);
      this.#dispatch(event);
    });
    this.#inFlight.set(id, handled);
  }

  #onPageEvent = (event: PageLifecycleEvent): void => {
    switch (event.type) {
      case 'visibilitychange':
        if (!event.visible) return;
        if (this.#reloadWhenVisible) {
          this.#reloadWhenVisible = false;
          getNavigation().reload();
        }
        this.#dispatch({ type: 'visible' });
        return;
      case 'online':
        this.#dispatch({ type: 'online' });
        return;
      case 'pagehide':
        this.#reloadWhenVisible = false;
        this.#dispatch({ type: 'pagehide' });
        return;
      case 'pageshow':
        if (event.persisted) this.#dispatch({ type: 'pageshow' });
        return;
    }
  };

  #broadcast(message: LockChannelMessage): void {
    tellOtherTabs(this.#channel, message);
  }

  #runCallbacks(name: 'onAcquired' | 'onLost' | 'onAvailable'): void {
    const callbacks = this.#users.callbacks(name);
    if (name === 'onAvailable' && callbacks.size === 0) {
      // The default: reload so the editor shows what the other person saved, but never in a
      // background tab (it would take the lock nobody is using).
      if (this.#lifecycle.isVisible()) getNavigation().reload();
      else this.#reloadWhenVisible = true;
      return;
    }
    runEach(callbacks, this.#snapshot);
  }

  #publish(): void {
    const next = snapshotOf(this.#machine, this.resourceId);
    if (sameSnapshot(this.#snapshot, next)) return;
    this.#snapshot = next;
    for (const listener of [...this.#listeners]) listener();
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
