import { getNavigation } from '../core/navigation';
import type { PageLifecycle } from '../core/page-lifecycle';

/**
 * `onAvailable`'s default: reload, so the editor shows what the other person saved, but never
 * in a background tab (it would take the lock nobody is using): there it waits until the tab is
 * shown again. Leaving the page forgets a reload still waiting.
 */
export class AvailableReload {
  readonly #lifecycle: PageLifecycle;
  #whenVisible = false;

  constructor(lifecycle: PageLifecycle) {
    this.#lifecycle = lifecycle;
  }

  request(): void {
    if (this.#lifecycle.isVisible()) getNavigation().reload();
    else this.#whenVisible = true;
  }

  /** The tab is shown: a reload that waited happens now. */
  shown(): void {
    if (this.#whenVisible) getNavigation().reload();
    this.#whenVisible = false;
  }

  forget(): void {
    this.#whenVisible = false;
  }
}
