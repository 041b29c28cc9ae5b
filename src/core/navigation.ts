/**
 * The few ways the lock moves the page: reload it when a blocked tab sees the resource free, go
 * back, or go somewhere else. Tests and stories replace them with {@link setNavigation} so that
 * nothing really reloads.
 */
export interface Navigation {
  /** Reload the page, so the editor shows what the other person saved. */
  reload(): void;
  /** Go back one entry in the history ("Go back" in the overlay without a target). */
  back(): void;
  /** Go to `url` ("Go back" with a target). */
  assign(url: string): void;
}

const browserNavigation: Navigation = {
  reload: () => window.location.reload(),
  back: () => window.history.back(),
  assign: (url) => window.location.assign(url),
};

let current: Navigation = browserNavigation;

/** The navigation in use: the browser's unless {@link setNavigation} replaced part of it. */
export function getNavigation(): Navigation {
  return current;
}

/**
 * Replace some of the navigation (tests, stories). Returns how to put back what was there.
 *
 * @example
 * const restore = setNavigation({ reload: vi.fn() });
 * afterEach(restore);
 */
export function setNavigation(overrides: Partial<Navigation>): () => void {
  const previous = current;
  current = { ...current, ...overrides };
  return () => {
    current = previous;
  };
}
