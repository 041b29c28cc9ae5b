import { describe, expect, it } from 'vitest';
import {
  CLIENT_ID_RELOAD_WINDOW,
  CLIENT_ID_STORAGE_KEY,
  createTabClientId,
} from '../../src/core/client-id';
import { PageLifecycle } from '../../src/core/page-lifecycle';

/** A tab: its own sessionStorage and its own page lifecycle. */
function openTab(storage: Storage = new MemoryStorage(), now = () => Date.now()) {
  const lifecycle = new PageLifecycle();
  lifecycle.setEventListener(() => () => {});
  const tab = createTabClientId({ storage, lifecycle, now });
  return { id: tab.id, storage, lifecycle };
}

class MemoryStorage implements Storage {
  readonly #items = new Map<string, string>();
  get length() {
    return this.#items.size;
  }
  clear() {
    this.#items.clear();
  }
  getItem(key: string) {
    return this.#items.get(key) ?? null;
  }
  key(index: number) {
    return [...this.#items.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.#items.delete(key);
  }
  setItem(key: string, value: string) {
    this.#items.set(key, value);
  }
  /** What a duplicated tab gets: a copy of this tab's sessionStorage as it is now. */
  copy(): MemoryStorage {
    const copy = new MemoryStorage();
    for (const [key, value] of this.#items) copy.setItem(key, value);
    return copy;
  }
}

describe('the tab client id', () => {
  it('is random per tab and not left in sessionStorage while the page lives', () => {
    const first = openTab();
    const second = openTab();
    expect(first.id).not.toBe(second.id);
    expect(first.id.length).toBeGreaterThanOrEqual(32);
    expect(first.storage.getItem(CLIENT_ID_STORAGE_KEY)).toBeNull();
  });

  it('comes back after a reload, so the tab reclaims its own lock', () => {
    const tab = openTab();
    tab.lifecycle.emit({ type: 'pagehide', persisted: false });
    expect(tab.storage.getItem(CLIENT_ID_STORAGE_KEY)).toContain(tab.id);
    const reloaded = openTab(tab.storage);
    expect(reloaded.id).toBe(tab.id);
    expect(tab.storage.getItem(CLIENT_ID_STORAGE_KEY)).toBeNull();
  });

  it('is new in a tab duplicated from a page that moved on without page-lock', () => {
    // The editor's pagehide wrote the id back; the next page (no lock on it) never took it, and
    // a while later the user duplicates that tab: the copy must not pose as the original.
    const t0 = 1_000_000;
    const editor = openTab(new MemoryStorage(), () => t0);
    editor.lifecycle.emit({ type: 'pagehide', persisted: false });
    const later = t0 + CLIENT_ID_RELOAD_WINDOW + 1;
    const duplicate = openTab((editor.storage as MemoryStorage).copy(), () => later);
    expect(duplicate.id).not.toBe(editor.id);
    const reloadedInTime = openTab(editor.storage, () => t0 + 2_000);
    expect(reloadedInTime.id).toBe(editor.id);
  });

  it('ignores a stored id it cannot read', () => {
    const storage = new MemoryStorage();
    storage.setItem(CLIENT_ID_STORAGE_KEY, 'an-id-without-a-time');
    expect(openTab(storage).id).not.toBe('an-id-without-a-time');
  });

  it('is new in a duplicated tab, which copies sessionStorage', () => {
    const tab = openTab();
    const duplicate = openTab((tab.storage as MemoryStorage).copy());
    expect(duplicate.id).not.toBe(tab.id);
  });

  it('is new in a tab duplicated after a back/forward cache round trip', () => {
    const tab = openTab();
    tab.lifecycle.emit({ type: 'pagehide', persisted: true });
    tab.lifecycle.emit({ type: 'pageshow', persisted: true });
    const duplicate = openTab((tab.storage as MemoryStorage).copy());
    expect(duplicate.id).not.toBe(tab.id);
  });

  it('still works when sessionStorage throws', () => {
    const broken = new MemoryStorage();
    broken.getItem = () => {
      throw new Error('SecurityError');
    };
    const tab = openTab(broken);
    expect(tab.id).toMatch(/\S{32,}/);
  });
});
