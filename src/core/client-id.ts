import { type PageLifecycle, pageLifecycle } from './page-lifecycle';

/** The sessionStorage key that carries a tab's id across a reload. */
export const CLIENT_ID_STORAGE_KEY = 'page-lock:client-id';

/** The part of `Storage` the keeper uses. */
export type ClientIdStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface TabClientIdOptions {
  /** Default: `window.sessionStorage` when it is usable. */
  storage?: ClientIdStorage | null;
  /** Default: the page's {@link pageLifecycle}. */
  lifecycle?: PageLifecycle;
  /** Wall clock for the id's freshness (default `Date.now`). */
  now?: () => number;
}

/**
 * How long after `pagehide` a stored id may be taken back. A reload reads it at once; an id that
 * waited longer was left by a page that moved on to one without page-lock, and a tab duplicated
 * from that page must not pose as its original.
 */
export const CLIENT_ID_RELOAD_WINDOW = 30_000;

/** One tab's id, kept across reloads but not copied into duplicated tabs. */
export interface TabClientId {
  /** This tab's id (the same for the page's whole life). */
  readonly id: string;
  /** Stop writing the id back on `pagehide`. */
  dispose(): void;
}

/**
 * Read this tab's id. A reload of a holding tab must get its own lock back, so the id lives in
 * sessionStorage; but a duplicated tab copies sessionStorage and must not pose as its original.
 * So the id is read and removed on load, and written back only on `pagehide` (and removed again
 * when the page comes back from the back/forward cache).
 */
export function createTabClientId(options: TabClientIdOptions = {}): TabClientId {
  const storage = options.storage === undefined ? defaultStorage() : options.storage;
  const lifecycle = options.lifecycle ?? pageLifecycle;
  const now = options.now ?? Date.now;
  let stored: string | null = null;
  try {
    stored = storage?.getItem(CLIENT_ID_STORAGE_KEY) ?? null;
    storage?.removeItem(CLIENT_ID_STORAGE_KEY);
  } catch {
    // Storage can throw (quota, privacy modes): the tab simply gets a new id.
  }
  const tabId = freshStoredId(stored, now()) ?? createClientId();
  const unsubscribe = lifecycle.subscribe((event) => {
    try {
      if (event.type === 'pagehide') storage?.setItem(CLIENT_ID_STORAGE_KEY, `${tabId} ${now()}`);
      if (event.type === 'pageshow' && event.persisted) storage?.removeItem(CLIENT_ID_STORAGE_KEY);
    } catch {
      // Without storage a reload gets a new id; the lock then waits for its lease to lapse.
    }
  });
  return { id: tabId, dispose: unsubscribe };
}

/** The id stored as `"<id> <written at>"`, when it was written within the reload window. */
function freshStoredId(stored: string | null, now: number): string | null {
  const [id, writtenAt, ...rest] = stored?.split(' ') ?? [];
  const age = now - Number(writtenAt);
  if (!id || id.length > 200 || rest.length > 0) return null;
  return age >= 0 && age <= CLIENT_ID_RELOAD_WINDOW ? id : null;
}

let pageTabId: TabClientId | undefined;

/** This page's tab id, created on first use (browser only). */
export function getTabClientId(): string {
  pageTabId ??= createTabClientId();
  return pageTabId.id;
}

/** A random id with 128 bits of entropy. */
export function createClientId(): string {
  const cryptoApi = globalThis.crypto;
  if (typeof cryptoApi?.randomUUID === 'function') return cryptoApi.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof cryptoApi?.getRandomValues === 'function') {
    cryptoApi.getRandomValues(bytes);
  } else {
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  }
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

function defaultStorage(): ClientIdStorage | null {
  try {
    return typeof window === 'undefined' ? null : window.sessionStorage;
  } catch {
    return null;
  }
}
