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
  const onPageTransition = (event: Event): void =>
    emit({
      type: event.type as 'pagehide' | 'pageshow',
      persisted: (event as PageTransitionEvent).persisted === true,
    });
  const listeners: Array<[EventTarget, string, (event: Event) => void]> = [
    [
      document,
      'visibilitychange',
      () => emit({ type: 'visibilitychange', visible: document.visibilityState !== 'hidden' }),
    ],
    [window, 'pagehide', onPageTransition],
    [window, 'pageshow', onPageTransition],
    [window, 'online', () => emit({ type: 'online' })],
  ];
  for (const [target, type, listener] of listeners) target.addEventListener(type, listener);
  return () => {
    for (const [target, type, listener] of listeners) target.removeEventListener(type, listener);
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
    if (this.#listeners.size === 1) this.#connect();
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
    this.#cleanup = undefined;
    if (this.#listeners.size > 0) this.#connect();
  }

  #connect(): void {
    this.#cleanup = this.#setup((event) => this.emit(event));
  }

  /** Tell every listener that something happened (what the source does; tests may too). */
  emit(event: PageLifecycleEvent): void {
    if (event.type === 'visibilitychange') this.#visible = event.visible;
    this.#tell(event);
  }

  #tell(event: PageLifecycleEvent): void {
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
    if (before !== after) this.#tell({ type: 'visibilitychange', visible: after });
  }

  /** Whether the tab is visible now. True where there is no document (it cannot be hidden). */
  isVisible(): boolean {
    return (
      this.#visible ?? (typeof document === 'undefined' || document.visibilityState !== 'hidden')
    );
  }
}

/** The page's lifecycle manager that every lock listens to. */
export const pageLifecycle = new PageLifecycle();
