import { type QueryClient, QueryObserver, replaceEqualDeep } from '@tanstack/react-query';
import type { LockAdapter } from '../core/adapter';
import { reportLockFailure } from '../core/lock-failure';
import { type PageLifecycle, pageLifecycle } from '../core/page-lifecycle';
import {
  type BatchStatusEntry,
  type BatchStatusResponse,
  type Lock,
  type LockUser,
  MAX_BATCH_IDS,
} from '../core/protocol';
import { adapterScope } from './adapter-scope';
import { DEFAULT_POLL_INTERVAL } from './lock-options';
import { LOCK_CHANNEL_NAME, LOCK_QUERY_PREFIX, type LockChannelMessage } from './lock-session';

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

const UNKNOWN: LockStatusView = { status: 'unknown', lock: null, holder: null, isSelf: false };

/** The view of a resource before anything is known about it. */
export function unknownLockStatus(): LockStatusView {
  return UNKNOWN;
}

/**
 * Watches many resources without acquiring them (list views with a badge per row): every id
 * watched by any component is asked about in one `statusMany` request per render batch (split
 * only above the protocol's 100 ids), polled at the provider's interval through one react-query
 * `QueryObserver`.
 */
export class LockStatusHub {
  readonly #config: LockStatusHubConfig;
  readonly #counts = new Map<string, number>();
  readonly #views = new Map<string, LockStatusView>();
  readonly #listeners = new Set<() => void>();
  #observer: QueryObserver<BatchStatusResponse> | null = null;
  #cleanups: Array<() => void> = [];
  #scheduled = false;
  #ids: readonly string[] = [];
  #pollInterval = DEFAULT_POLL_INTERVAL;
  #ttlMs: number | null = null;

  constructor(config: LockStatusHubConfig) {
    this.#config = config;
  }

  /** Listen to changes of any view. */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  };

  /** The current view of one resource (the same object until it changes). */
  view(resourceId: string): LockStatusView {
    return this.#views.get(resourceId) ?? UNKNOWN;
  }

  /** Poll every `interval` ms (clamped to a third of the server's TTL). */
  setPollInterval(interval: number | undefined): void {
    const next =
      interval !== undefined && Number.isFinite(interval) && interval > 0
        ? interval
        : DEFAULT_POLL_INTERVAL;
    if (next === this.#pollInterval) return;
    this.#pollInterval = next;
    this.#observer?.setOptions(this.#options());
  }

  /**
   * Watch these ids until the returned function is called. Ids added in one render batch are
   * asked about together, in the next microtask.
   */
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
    const ids = [...this.#counts.keys()].sort();
    if (ids.length === 0) {
      for (const cleanup of this.#cleanups.splice(0)) cleanup();
      this.#observer = null;
      this.#ids = [];
      return;
    }
    if (sameIds(ids, this.#ids) && this.#observer) return;
    this.#ids = ids;
    if (this.#observer) {
      this.#observer.setOptions(this.#options());
      return;
    }
    const observer = new QueryObserver<BatchStatusResponse>(this.#config.client, this.#options());
    this.#observer = observer;
    this.#cleanups.push(observer.subscribe(() => {}));
    const lifecycle = this.#config.lifecycle ?? pageLifecycle;
    this.#cleanups.push(
      lifecycle.subscribe((event) => {
        if ((event.type === 'visibilitychange' && event.visible) || event.type === 'online') {
          void this.#observer?.refetch({ cancelRefetch: false });
        }
      }),
    );
    this.#cleanups.push(this.#listenToOtherTabs());
  }

  /** A lock taken or given back in this browser's other tabs: look again at once. */
  #listenToOtherTabs(): () => void {
    if (typeof BroadcastChannel !== 'function') return () => {};
    let channel: BroadcastChannel;
    try {
      channel = new BroadcastChannel(LOCK_CHANNEL_NAME);
    } catch {
      return () => {};
    }
    channel.onmessage = (event: MessageEvent<unknown>) => {
      const message = event.data as Partial<LockChannelMessage> | null;
      if (typeof message?.resourceId === 'string' && this.#counts.has(message.resourceId)) {
        void this.#observer?.refetch({ cancelRefetch: false });
      }
    };
    return () => channel.close();
  }

  #options() {
    const ids = this.#ids;
    return {
      queryKey: [
        LOCK_QUERY_PREFIX,
        this.#config.clientId(),
        'status-many',
        // Two providers with different adapters (two users) never share one answer.
        adapterScope(this.#config.adapter),
        ...ids,
      ] as readonly unknown[],
      queryFn: ({ signal }: { signal: AbortSignal }) => this.#fetch(ids, signal),
      staleTime: Number.POSITIVE_INFINITY,
      gcTime: 0,
      refetchInterval: () => this.#interval(),
      refetchIntervalInBackground: true,
      refetchOnWindowFocus: false,
      refetchOnReconnect: false,
      retry: false,
      networkMode: 'always' as const,
      structuralSharing: false,
    };
  }

  #interval(): number {
    if (this.#ttlMs === null) return this.#pollInterval;
    return Math.min(this.#pollInterval, Math.max(1, Math.floor(this.#ttlMs / 3)));
  }

  async #fetch(ids: readonly string[], signal: AbortSignal): Promise<BatchStatusResponse> {
    const clientId = this.#config.clientId();
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += MAX_BATCH_IDS)
      chunks.push(ids.slice(i, i + MAX_BATCH_IDS));
    const answers = await Promise.all(
      chunks.map((chunk) => this.#config.adapter.statusMany(chunk, { clientId }, { signal })),
    ).catch((error: unknown) => {
      if (!signal.aborted) reportLockFailure(error);
      throw error;
    });
    const merged: BatchStatusResponse = { locks: {}, ttlMs: 0, now: 0 };
    for (const answer of answers) {
      Object.assign(merged.locks, answer.locks);
      merged.ttlMs = answer.ttlMs;
      merged.now = answer.now;
    }
    this.#ttlMs = merged.ttlMs;
    this.#receive(merged.locks);
    return merged;
  }

  #receive(locks: Record<string, BatchStatusEntry>): void {
    let changed = false;
    for (const [id, entry] of Object.entries(locks)) {
      const previous = this.#views.get(id);
      const next = replaceEqualDeep(previous, toView(entry));
      if (next !== previous) {
        this.#views.set(id, next);
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

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, index) => id === b[index]);
}
