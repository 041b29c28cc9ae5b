import { setCappedTimeout } from './capped-timeout';

/** How long the idle warning shows before the page is released, unless told (`idleWarning`). */
export const DEFAULT_IDLE_WARNING = 60_000;

export interface IdleWatchConfig {
  /** The monotonic clock (ms). */
  now(): number;
  /** No input for this long (ms) warns; null: idle release is off. */
  timeout(): number | null;
  /** How long the warning shows before the release (ms). */
  warning(): number;
  /** Whether input counts now: a hidden tab's does not (it counts as idle). */
  counts(): boolean;
  /** No input for `timeout`: show the warning, releasing after `warning` ms. */
  onWarn(warning: number): void;
  /** The warning went unanswered. */
  onDue(): void;
  /** Input while warned: the user is still editing. */
  onBack(): void;
}

/**
 * Idle timing for a holder. Input only notes its time, so it costs nothing on every keystroke;
 * one timer is armed for when the holder would have been idle `timeout`, and one that fires
 * after newer input arms itself again for the rest.
 */
export class IdleWatch {
  readonly #config: IdleWatchConfig;
  #on = false;
  #lastInput = 0;
  #warned = false;
  #cancel?: () => void;

  constructor(config: IdleWatchConfig) {
    this.#config = config;
  }

  /** Watch while the tab holds the lock; starting counts as input. */
  watch(on: boolean): void {
    if (on === this.#on) return;
    this.#on = on;
    this.#warned = false;
    this.#lastInput = this.#config.now();
    this.#arm();
  }

  /** The options changed (another `idleTimeout`): time it by them from now on. */
  optionsChanged(): void {
    if (!this.#warned) this.#arm();
  }

  /** Input happened (`keepEditing()`). */
  input(): void {
    if (!this.#on || !this.#config.counts()) return;
    this.#lastInput = this.#config.now();
    if (!this.#warned) return;
    this.#warned = false;
    this.#arm();
    this.#config.onBack();
  }

  #arm(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    const timeout = this.#config.timeout();
    if (!this.#on || timeout === null) return;
    if (this.#warned) {
      this.#cancel = setCappedTimeout(() => this.#config.onDue(), this.#config.warning());
      return;
    }
    const delay = this.#lastInput + timeout - this.#config.now();
    this.#cancel = setCappedTimeout(() => {
      if (this.#config.now() - this.#lastInput < timeout) return this.#arm(); // input meanwhile
      this.#warned = true;
      this.#arm();
      this.#config.onWarn(this.#config.warning());
    }, delay);
  }
}
