import { type QueryClient, QueryObserver, type QueryObserverResult } from '@tanstack/react-query';
import { openLockChannel } from '../client/lock-channel';
import { DEFAULT_POLL_INTERVAL } from '../client/lock-options';
import { lockStatusQueryOptions } from '../client/lock-queries';
import { pollEvery } from '../client/lock-users';
import type { LockAdapter } from '../core/adapter';
import { reportLockFailure } from '../core/lock-failure';
import type { LockStreamNews } from '../core/lock-stream';
import { type PageLifecycle, pageLifecycle } from '../core/page-lifecycle';
import type { BatchStatusEntry, BatchStatusResponse, Lock, LockUser } from '../protocol/protocol';

/** What `useLockStatus` tells about one resource. */
export interface LockStatusView {
  /**
   * `unknown` until the first answer; `free`; `locked` by someone else (or this user elsewhere,
   * `isSelf`); `held` by this very tab; `forbidden` when the server's `authorize` does not let
   * this user observe it (show no badge, or a lock icon: who holds it is not told).
   */
  status: 'unknown' | 'free' | 'locked' | 'held' | 'forbidden';
  lock: Lock | null;
  holder: LockUser | null;
  /** The holder is this user (in this tab when `held`, else in another tab or device). */
  isSelf: boolean;
}

export interface LockStatusHubConfig {
  client: QueryClient;
  adapter: LockAdapter;
  /** Read when the first request goes out (the tab's id is known only in the browser). */
  clientId: () => string;
  lifecycle?: PageLifecycle;
}

// The batch key without its data tag: what `new QueryObserver(client, options)` infers.
type BatchKey = (string | number | string[])[];

const UNKNOWN: LockStatusView = { status: 'unknown', lock: null, holder: null, isSelf: false };

/** The view of a resource before anything is known about it. */
export function unknownLockStatus(): LockStatusView {
  return UNKNOWN;
}

/**
 * Watches many resources without acquiring them (list views with a badge per row): every id
 * watched by any component is asked about in one batch query (`lockStatusQueryOptions(ids)`)
 * per render batch, polled at the provider's interval by one react-query `QueryObserver`. Each
 * id is also watched through the adapter's live stream (when it has one): a pushed change is
 * written into that query's cache at once, and while every id is streamed the poll is only a
 * safety net (every third of the TTL).
 */
export class LockStatusHub {
  readonly #config: LockStatusHubConfig;
  readonly #counts = new Map<string, number>();
  readonly #views = new Map<string, LockStatusView>();
  /** One view per structurally shared entry: an unchanged entry keeps its view object. */
  readonly #viewOf = new WeakMap<BatchStatusEntry, LockStatusView>();
  readonly #listeners = new Set<() => void>();
  #observer: QueryObserver<
    BatchStatusResponse,
    Error,
    BatchStatusResponse,
    BatchStatusResponse,
    BatchKey
  > | null = null;
  #cleanups: Array<() => void> = [];
  /** The stream's unwatch of each watched id, and the ids it says are up. */
  readonly #unwatch = new Map<string, () => void>();
  readonly #up = new Set<string>();
  #scheduled = false;
  #pollInterval = DEFAULT_POLL_INTERVAL;
  #ttlMs: number | null = null;

  constructor(config: LockStatusHubConfig) {
    this.#config = config;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** The current view of one resource (the same object until it changes). */
  view(resourceId: string): LockStatusView {
    return this.#views.get(resourceId) ?? UNKNOWN;
  }

  /** Poll every `interval` ms (clamped to a third of the server's TTL). */
  setPollInterval(interval: number | undefined): void {
    const valid = interval !== undefined && Number.isFinite(interval) && interval > 0;
    this.#pollInterval = valid ? interval : DEFAULT_POLL_INTERVAL;
    this.#observer?.setOptions(this.#options());
  }

  /** Watch these ids until the returned function is called; one batch per render batch. */
  watch(resourceIds: readonly string[]): () => void {
    for (const id of resourceIds) this.#counts.set(id, (this.#counts.get(id) ?? 0) + 1);
    this.#schedule();
    let watching = true;
    return () => {
      if (!watching) return;
      watching = false;
      for (const id of resourceIds) {
        const count = (this.#counts.get(id) ?? 0) - 1;
        if (count > 0) this.#counts.set(id, count);
        else this.#counts.delete(id);
      }
      this.#schedule();
    };
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#apply();
    });
  }

  #apply(): void {
    this.#syncWatches();
    if (this.#counts.size === 0) {
      for (const cleanup of this.#cleanups.splice(0)) cleanup();
      this.#observer = null;
      return;
    }
    if (this.#observer) {
      this.#observer.setOptions(this.#options());
      return;
    }
    const observer = new QueryObserver(this.#config.client, this.#options());
    this.#observer = observer;
    const refetch = () => void observer.refetch({ cancelRefetch: false });
    const lifecycle = this.#config.lifecycle ?? pageLifecycle;
    const channel = openLockChannel((message) => {
      // A lock taken or given back in this browser's other tabs: look again at once.
      if (message.resourceId && this.#counts.has(message.resourceId)) refetch();
    });
    this.#cleanups.push(
      observer.subscribe((result) => this.#receive(result)),
      lifecycle.subscribe((event) => {
        if ((event.type === 'visibilitychange' && event.visible) || event.type === 'online') {
          refetch();
        }
      }),
      () => channel?.close(),
    );
  }

  #options() {
    const ids = [...this.#counts.keys()];
    return {
      ...lockStatusQueryOptions(ids, {
        adapter: this.#config.adapter,
        clientId: this.#config.clientId(),
      }),
      // Every id streamed: the stream brings the news, polls are a safety net.
      refetchInterval: () =>
        pollEvery(this.#pollInterval, this.#ttlMs, this.#up.size === this.#counts.size),
      // A badge in a background tab is still worth keeping right when the tab comes back.
      refetchIntervalInBackground: true,
      // Visibility comes from the page's lifecycle manager (swappable in tests), not from focus.
      refetchOnWindowFocus: false,
    };
  }

  /** Watch the ids now wanted through the stream, and stop watching the rest. */
  #syncWatches(): void {
    const { watch } = this.#config.adapter;
    for (const [id, unwatch] of this.#unwatch) {
      if (this.#counts.has(id)) continue;
      unwatch();
      this.#unwatch.delete(id);
      this.#up.delete(id);
    }
    if (!watch) return;
    for (const id of this.#counts.keys()) {
      if (!this.#unwatch.has(id))
        this.#unwatch.set(
          id,
          watch.call(this.#config.adapter, id, (news) => this.#hear(id, news)),
        );
    }
  }

  #hear(id: string, news: LockStreamNews): void {
    const observer = this.#observer;
    if (news.type !== 'event') {
      const wasUp = this.#up.delete(id);
      if (news.type === 'up') this.#up.add(id);
      observer?.setOptions(this.#options());
      // Down: news may have been missed meanwhile, so ask once now.
      if (wasUp && news.type === 'down') void observer?.refetch({ cancelRefetch: false });
      return;
    }
    if (!observer) return;
    const { event } = news;
    const { queryKey } = observer.getCurrentQuery();
    this.#config.client.setQueryData<BatchStatusResponse>(queryKey, (data) => {
      const before = data?.locks[id];
      if (!data || !before) return data; // the batch that asks for it is on its way
      const entry: BatchStatusEntry =
        event.status === 'free' || event.status === 'forbidden'
          ? { status: event.status }
          : // The stream knows no tab: this tab's own lease stays `held`.
            before.status === 'held' && event.isSelf && before.lock.fence === event.lock.fence
            ? { status: 'held', lock: event.lock, isSelf: true }
            : { status: 'locked', lock: event.lock, isSelf: event.isSelf };
      return { ...data, locks: { ...data.locks, [id]: entry }, now: event.now };
    });
  }

  #receive(result: QueryObserverResult<BatchStatusResponse>): void {
    if (result.isError && result.errorUpdateCount > 0 && result.fetchStatus === 'idle') {
      reportLockFailure(result.error);
    }
    if (!result.data) return;
    this.#ttlMs = result.data.ttlMs;
    const { locks } = result.data;
    let changed = false;
    for (const [id, entry] of Object.entries(locks)) {
      const view = this.#viewOf.get(entry) ?? toView(entry);
      this.#viewOf.set(entry, view);
      if (this.#views.get(id) !== view) {
        this.#views.set(id, view);
        changed = true;
      }
    }
    if (changed) for (const listener of [...this.#listeners]) listener();
  }
}

function toView(entry: BatchStatusEntry): LockStatusView {
  if (entry.status === 'free' || entry.status === 'forbidden') {
    return { status: entry.status, lock: null, holder: null, isSelf: false };
  }
  return {
    status: entry.status,
    lock: entry.lock,
    holder: entry.lock.holder,
    isSelf: entry.isSelf,
  };
}
