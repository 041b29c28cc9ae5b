/**
 * What the lock needs to know about the page it runs in: whether the tab is visible, when it goes
 * away (`pagehide`) or comes back from the back/forward cache (`pageshow`), and when the network
 * returns. One small swappable manager (TanStack Query's `focusManager` pattern): the lock
 * listens to it, the browser feeds it by default, and tests and stories drive it directly.
 */

/** Something that happened to the page. */
export type PageLifecycleEvent =
  | { type: 'visibilitychange'; visible: boolean }
  /** The page is going away (closed, navigated, or frozen into the back/forward cache). */
  | { type: 'pagehide'; persisted: boolean }
  /** The page is shown; `persisted` when it comes back from the back/forward cache. */
  | { type: 'pageshow'; persisted: boolean }
  | { type: 'online' };

export type PageLifecycleListener = (event: PageLifecycleEvent) => void;

/**
 * Connects the manager to a source of events; returns how to disconnect. It is called when the
 * first listener arrives and its cleanup when the last one leaves.
 */
export type PageLifecycleSetup = (emit: (event: PageLifecycleEvent) => void) => () => void;

/** The browser's own events, when there is a browser. */
const browserSetup: PageLifecycleSetup = (emit) => {
  if (typeof window === 'undefined' || typeof document === 'undefined') return () => {};
  const onVisibility = (): void =>
    emit({ type: 'visibilitychange', visible: document.visibilityState !== 'hidden' });
  const onPageHide = (event: PageTransitionEvent): void =>
    emit({ type: 'pagehide', persisted: event.persisted === true });
  const onPageShow = (event: PageTransitionEvent): void =>
    emit({ type: 'pageshow', persisted: event.persisted === true });
  const onOnline = (): void => emit({ type: 'online' });
  document.addEventListener('visibilitychange', onVisibility);
  window.addEventListener('pagehide', onPageHide);
  window.addEventListener('pageshow', onPageShow);
  window.addEventListener('online', onOnline);
  return () => {
    document.removeEventListener('visibilitychange', onVisibility);
    window.removeEventListener('pagehide', onPageHide);
    window.removeEventListener('pageshow', onPageShow);
    window.removeEventListener('online', onOnline);
  };
};

/** Visibility, page hide/show and online events, behind a manager that can be swapped out. */
export class PageLifecycle {
  readonly #listeners = new Set<PageLifecycleListener>();
  #setup: PageLifecycleSetup = browserSetup;
  #cleanup: (() => void) | undefined;
  /** Set by {@link setVisible}; otherwise the document decides. */
  #visible: boolean | undefined;

  /** Listen to page events; returns how to stop listening. */
  subscribe(listener: PageLifecycleListener): () => void {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.#cleanup = this.#setup((event) => this.emit(event));
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) {
        this.#cleanup?.();
        this.#cleanup = undefined;
      }
    };
  }

  /**
   * Replace where events come from (the browser by default). With listeners present, the old
   * source is disconnected and the new one connected at once.
   */
  setEventListener(setup: PageLifecycleSetup): void {
    this.#cleanup?.();
    this.#setup = setup;
    this.#cleanup = this.#listeners.size > 0 ? this.#setup((event) => this.emit(event)) : undefined;
  }

  /** Tell every listener that something happened (what the source does; tests may too). */
  emit(event: PageLifecycleEvent): void {
    if (event.type === 'visibilitychange') this.#visible = event.visible;
    for (const listener of [...this.#listeners]) listener(event);
  }

  /**
   * Force visibility (tests, stories, embedding hosts) and tell listeners when it changed;
   * `undefined` hands the decision back to the document.
   */
  setVisible(visible: boolean | undefined): void {
    const before = this.isVisible();
    this.#visible = visible;
    const after = this.isVisible();
    if (before !== after) {
      for (const listener of [...this.#listeners]) {
        listener({ type: 'visibilitychange', visible: after });
      }
    }
  }

  /** Whether the tab is visible now. True where there is no document (it cannot be hidden). */
  isVisible(): boolean {
    if (this.#visible !== undefined) return this.#visible;
    if (typeof document === 'undefined') return true;
    return document.visibilityState !== 'hidden';
  }
}

/** The page's lifecycle manager that every lock listens to. */
export const pageLifecycle = new PageLifecycle();
