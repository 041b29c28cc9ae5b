import {
  type FetchQueryOptions,
  isCancelledError,
  type QueryClient,
  type QueryKey,
} from '@tanstack/react-query';
import type { LockAdapter } from '../core/adapter';
import { reportLockFailure, toError } from '../core/lock-failure';
import type { LockStreamNews } from '../core/lock-stream';
import { type PageLifecycle, type PageLifecycleEvent, pageLifecycle } from '../core/page-lifecycle';
import type { LockUser } from '../protocol/protocol';
import { AvailableReload } from './available-reload';
import { IdleWatch } from './idle-watch';
import { openLockChannel, tellOtherTabs } from './lock-channel';
import {
  type AnswerEvent,
  type Clock,
  initialMachine,
  type LockEffect,
  type LockEvent,
  reduce,
  slept,
} from './lock-machine';
import { lockMutations, lockQueryOptions, lockStatusQueryOptions } from './lock-queries';
import { sendRelease } from './lock-release';
import { idleSnapshot, type PageLockSnapshot, snapshotOf } from './lock-snapshot';
import { LockTimers } from './lock-timers';
import { type LockSessionUser, LockUsers } from './lock-users';

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
 * it events (answers, timers, the page's lifecycle, other tabs, the users' actions) and performs
 * its effects: requests through react-query, timers, the BroadcastChannel, callbacks and the
 * adapter's live stream (`watch`), whose news come back as `{ type: 'status', id: 'push' }` and
 * `{ type: 'live' }`. An adapter without `watch` works by polling alone; one without `ask`
 * offers no line. Idle timing is the {@link IdleWatch}'s.
 */
export class LockSession {
  readonly resourceId: string;
  readonly clientId: string;
  readonly #config: LockSessionConfig;
  readonly #lifecycle: PageLifecycle;
  readonly #mono: () => number;
  readonly #listeners = new Set<() => void>();
  readonly #users = new LockUsers();
  /** Requests that may still grant or release something, by id: stop() waits for them. */
  readonly #inFlight = new Map<number, Promise<void>>();
  readonly #quiet = new Set<() => void>();
  readonly #queue: LockEvent[] = [];
  readonly #mutations;
  readonly #idle: IdleWatch;
  readonly #timers: LockTimers;
  readonly #reload: AvailableReload;
  #machine;
  #snapshot: PageLockSnapshot;
  #dispatching = false;
  #after?: Promise<unknown>;
  #lastRefresh?: Clock;
  #channel: BroadcastChannel | null = null;
  #unsubscribe?: () => void;
  #unwatch?: () => void;
  #stopping?: Promise<void>;

  constructor(config: LockSessionConfig) {
    const { client, adapter, resourceId, clientId } = config;
    this.#config = config;
    this.resourceId = resourceId;
    this.clientId = clientId;
    this.#lifecycle = config.lifecycle ?? pageLifecycle;
    this.#mono = config.monotonicNow ?? (() => performance.now());
    this.#reload = new AvailableReload(this.#lifecycle);
    this.#machine = initialMachine('mount', config.user?.id ?? null, adapter.ask !== undefined);
    this.#snapshot = idleSnapshot(resourceId);
    this.#mutations = lockMutations(client, { adapter, clientId }, resourceId);
    this.#idle = new IdleWatch({
      now: this.#mono,
      timeout: () => this.#users.idleTimeout(),
      warning: () => this.#users.idleWarning(),
      counts: () => this.#lifecycle.isVisible(),
      onWarn: (warning) => this.#dispatch({ type: 'idle', warning, at: this.#now() }),
      onDue: () => this.#dispatch({ type: 'idleDue' }),
      onBack: () => this.#dispatch({ type: 'keepEditing' }),
    });
    this.#timers = new LockTimers({
      mono: this.#mono,
      now: () => this.#now(),
      every: (what) => {
        const { ttlMs, live } = this.#machine;
        return this.#users.pollInterval(ttlMs, live && what === 'look');
      },
      pollDue: () => this.#dispatch({ type: 'pollDue' }),
      deadline: (at) => this.#dispatch({ type: 'deadline', at }),
      slept: () => this.#dispatch({ type: 'slept' }),
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
    this.#timers.rearmPoll();
    this.#idle.optionsChanged();
    this.#dispatch({ type: 'mode', mode: this.#users.acquireMode() });
  }

  /** Start; `after` is a stop of this resource and tab still under way: the first acquire waits. */
  start(after?: Promise<unknown>): void {
    if (this.#machine.phase.kind !== 'idle') return;
    this.#after = after;
    this.#unsubscribe = this.#lifecycle.subscribe(this.#onPage);
    this.#channel = openLockChannel(({ resourceId, type }) => {
      if (resourceId === this.resourceId && type)
        this.#dispatch({ type: 'otherTab', message: type });
    });
    this.#dispatch({ type: 'start', afterPreviousStop: after !== undefined });
  }

  /** Stop for good; resolves once every request that could grant or release has settled. */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#dispatch({ type: 'stop' }); // which disarms the poll and the deadline
    this.#reload.forget();
    this.#unsubscribe?.();
    this.#channel?.close();
    this.#channel = null;
    this.#listeners.clear();
    this.#stopping = (async () => {
      while (this.#inFlight.size > 0) await Promise.allSettled(this.#inFlight.values());
    })();
    return this.#stopping;
  }

  acquire = (): void => void this.#dispatch({ type: 'acquire' });
  retry = (): void => void this.#dispatch({ type: 'retry' });

  /** Give the lock back and stay `free`; resolves once the release landed. */
  release = async (): Promise<void> => {
    await this.#sent(this.#dispatch({ type: 'release' }), 'release');
  };

  /** Take the lock from its holder ("edit here instead" when the holder is this user). */
  takeOver = async (): Promise<void> => {
    await this.#sent(this.#dispatch({ type: 'takeOver' }), 'takeOver');
  };

  /** One round trip now (see `PageLockState.recheck`); resolves once no request is on its way. */
  recheck = async (): Promise<void> => {
    this.#dispatch({ type: 'recheck' });
    while (this.#busy()) await this.#changed();
  };

  /** Ask to edit (a note of at most 200 characters), and wait in line. */
  ask = (message?: string): void => void this.#dispatch({ type: 'ask', message });

  leaveQueue = (): void => void this.#dispatch({ type: 'leaveQueue' });

  /** Hand the page to a waiter (default: the first); resolves once handed over (or not). */
  handOver = (waiterId?: string): Promise<void> => this.#answerWaiter('handOver', waiterId);

  /** "Keep editing" to a waiter (default: the first pending); resolves once answered. */
  decline = (waiterId?: string): Promise<void> => this.#answerWaiter('decline', waiterId);

  /** Input happened in the editor: cheap, and changes nothing unless the idle warning shows. */
  keepEditing = (): void => this.#idle.input();

  async #answerWaiter(type: 'handOver' | 'decline', waiterId?: string): Promise<void> {
    this.#idle.input(); // answering is being there
    this.#dispatch({ type, waiterId });
    const answering = () => {
      const p = this.#machine.phase;
      return p.kind === 'held' && p.action !== null && p.action.kind !== 'idle';
    };
    while (answering()) await this.#changed();
  }

  #busy(): boolean {
    const p = this.#machine.phase;
    return 'request' in p && (p.request !== null || p.kind === 'acquiring');
  }

  /** Resolves after the next dispatch. */
  #changed(): Promise<void> {
    return new Promise<void>((resolve) => this.#quiet.add(resolve));
  }

  #sent(effects: LockEffect[], type: 'release' | 'takeOver'): Promise<void> | undefined {
    const effect = effects.find((e) => e.type === type);
    return effect && 'id' in effect ? this.#inFlight.get(effect.id) : undefined;
  }

  /** The one way state changes: events are reduced in order, then their effects performed. */
  #dispatch = (event: LockEvent): LockEffect[] => {
    this.#queue.push(event);
    if (this.#dispatching) return [];
    this.#dispatching = true;
    const performed: LockEffect[] = [];
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
        const { state, effects } = reduce(this.#machine, next);
        this.#machine = state;
        const shown = snapshotOf(state, this.resourceId);
        const keys = Object.keys(shown) as Array<keyof PageLockSnapshot>;
        if (keys.some((key) => !Object.is(shown[key], this.#snapshot[key]))) {
          this.#snapshot = shown;
          for (const listener of [...this.#listeners]) listener();
        }
        for (const effect of effects) this.#perform(effect);
        performed.push(...effects);
        this.#idle.watch(state.phase.kind === 'held');
      }
    } finally {
      this.#dispatching = false;
    }
    for (const resolve of this.#quiet) resolve();
    this.#quiet.clear();
    return performed;
  };

  #perform(e: LockEffect) {
    const { client, adapter, resourceId, clientId } = this.#config;
    const scope = { adapter, clientId };
    // The cache's copy is structurally shared with the previous answer: an unchanged holder stays
    // the same object, so a component that shows it is not rendered again.
    const fetch = <T, K extends QueryKey>(options: FetchQueryOptions<T, Error, T, K>) =>
      client.fetchQuery(options).then((raw) => client.getQueryData<T>(options.queryKey) ?? raw);
    switch (e.type) {
      case 'acquire': {
        const now = this.#now();
        const last = this.#lastRefresh;
        if (e.token) this.#lastRefresh = now;
        if (e.token && last && slept(last, now)) this.#dispatch({ type: 'slept' });
        return this.#track('leased', e.id, fetch(lockQueryOptions(resourceId, scope, e.token)));
      }
      case 'look':
        return this.#track('status', e.id, fetch(lockStatusQueryOptions(resourceId, scope)));
      case 'takeOver':
        return this.#track('tookOver', e.id, this.#mutations.takeOver.mutate(e.fence));
      case 'release': {
        const mutate = (v: { token: string; reason?: 'idle' }) => this.#mutations.release.mutate(v);
        const tell = () => tellOtherTabs(this.#channel, { type: 'released', resourceId });
        return this.#settle(
          e.id,
          sendRelease(e, { adapter, resourceId, mutate, tellOtherTabs: tell }),
        );
      }
      case 'reclaim':
      case 'afterStop': {
        const done = (): LockEvent => ({ type: 'released', id: e.id });
        const work =
          e.type === 'afterStop'
            ? Promise.resolve(this.#after)
            : adapter.acquire(resourceId, { clientId }).then(async (answer) => {
                if (answer.status !== 'held') return;
                await adapter.release(resourceId, answer.token);
                tellOtherTabs(this.#channel, { type: 'released', resourceId });
              });
        return this.#settle(e.id, work.then(done, done));
      }
      case 'ask': {
        const { renew, message } = e;
        const request = { ...(renew && { renew }), ...(message && { message }) };
        return this.#track('asked', e.id, this.#mutations.ask.mutate(request));
      }
      case 'answer': {
        const { token, waiterId, answer } = e;
        return this.#track(
          'answered',
          e.id,
          this.#mutations.answer.mutate({ token, waiterId, answer }),
        );
      }
      case 'leave':
        // Nobody reads its answer; a place that is not renewed lapses after the TTL anyway.
        void adapter
          .leave?.(resourceId, clientId, e.beacon ? { keepalive: true } : undefined)
          ?.catch(() => {});
        return;
      case 'cancel': {
        const { queryKey } = lockQueryOptions(resourceId, scope);
        // Not reverted: a cancelled refresh must not answer with the previous lease.
        void client.cancelQueries({ queryKey, exact: true }, { revert: false });
        return;
      }
      case 'poll':
        return this.#timers.armPoll(e.what);
      case 'watch':
        this.#unwatch?.();
        this.#unwatch = e.on ? adapter.watch?.(resourceId, this.#onNews) : undefined;
        return;
      case 'deadline':
        return this.#timers.armDeadline(e.at);
      case 'broadcast':
        return tellOtherTabs(this.#channel, { type: e.message, resourceId });
      case 'callback': {
        if (e.name === 'onHandOver' || e.name === 'onIdle') {
          // Awaited, but never by stop(): an app's draft save must not hold up the next mount.
          return void this.#users.settle(e, this.#snapshot).then(this.#dispatch);
        }
        if (!this.#users.run(e.name, this.#snapshot) && e.name === 'onAvailable') {
          this.#reload.request();
        }
        return;
      }
      case 'report':
        return reportLockFailure(e.error);
    }
  }

  /** A request on its way: its answer (or failure) comes back as an event. */
  #track<T extends AnswerEvent['type']>(
    type: T,
    id: number,
    request: Promise<Extract<AnswerEvent, { type: T }>['answer']>,
  ): void {
    const sent = this.#now();
    const answered = (answer: unknown) =>
      ({ type, id, answer, sent, at: this.#now() }) as LockEvent;
    const failed = (error: unknown): LockEvent => {
      return { type: 'failed', id, error: toError(error), cancelled: isCancelledError(error) };
    };
    this.#settle(id, request.then(answered, failed));
  }

  #settle(id: number, outcome: Promise<LockEvent>): void {
    const handled = outcome.then((event) => {
      this.#inFlight.delete(id);
      this.#dispatch(event);
    });
    this.#inFlight.set(id, handled);
  }

  #now(): Clock {
    return { mono: this.#mono(), wall: Date.now() };
  }

  #onNews = (news: LockStreamNews): void => {
    if (news.type !== 'event') return void this.#dispatch({ type: 'live', up: news.type === 'up' });
    const { event } = news;
    // `forbidden`: not watched; the looks' own answers tell the app.
    if (event.status === 'forbidden') return;
    const at = this.#now();
    const { change } = event;
    this.#dispatch({ type: 'status', id: 'push', answer: event, change, sent: at, at });
  };

  #onPage = (event: PageLifecycleEvent): void => {
    if (event.type === 'visibilitychange') {
      if (!event.visible) return;
      this.#reload.shown();
      this.#dispatch({ type: 'visible' });
    } else if (event.type === 'pagehide') {
      this.#reload.forget();
      this.#dispatch({ type: 'pagehide' });
    } else if (event.type === 'online' || event.persisted) {
      this.#dispatch({ type: event.type });
    }
  };
}
