import { setCappedTimeout } from './capped-timeout';
import type { Clock, LockEvent } from './lock-state';

/** A wall clock that ran this much further than the monotonic one means the machine slept. */
const SLEEP_GAP = 5_000;

/**
 * The session's clocks and timers: the poll, the fail-safe deadline (on the monotonic clock) and
 * the signs that the machine slept. What they notice comes back as events.
 */
export class LockTimers {
  readonly #mono: () => number;
  readonly #emit: (event: LockEvent) => void;
  readonly #interval: () => number;
  #poll: { what: 'lease' | 'look'; timer: ReturnType<typeof setInterval> } | null = null;
  #cancelDeadline: (() => void) | null = null;
  #lastSend: Clock | null = null;

  constructor(mono: () => number, emit: (event: LockEvent) => void, interval: () => number) {
    this.#mono = mono;
    this.#emit = emit;
    this.#interval = interval;
  }

  now(): Clock {
    return { mono: this.#mono(), wall: Date.now() };
  }

  // A repeating timer, re-armed by every new phase: a tick while a request is on its way asks
  // nothing (that request counts), and one that never settles does not stop the polls.
  poll(what: 'lease' | 'look' | null): void {
    if (this.#poll) clearInterval(this.#poll.timer);
    this.#poll = null;
    if (!what) return;
    const timer = setInterval(() => this.#emit({ type: 'pollDue' }), this.#interval());
    this.#poll = { what, timer };
  }

  /** The interval changed (another user, another `pollInterval`): re-arm a running poll. */
  repoll(): void {
    if (this.#poll) this.poll(this.#poll.what);
  }

  deadline(at: number | null): void {
    this.#cancelDeadline?.();
    this.#cancelDeadline = at === null ? null : this.#armDeadline(at);
  }

  stop(): void {
    this.poll(null);
    this.deadline(null);
  }

  /** Before each refresh: did the wall clock run ahead of the monotonic one (a sleep)? */
  noticeSleep(): void {
    const now = this.now();
    const last = this.#lastSend;
    this.#lastSend = now;
    if (last && sleptBetween(last, now)) this.#emit({ type: 'slept' });
  }

  /** Whether the machine slept between `then` and now. */
  sleptSince(then: Clock): boolean {
    return sleptBetween(then, this.now());
  }

  #armDeadline(deadline: number): () => void {
    const delay = Math.max(0, deadline - this.#mono());
    const armedAt = Date.now();
    return setCappedTimeout(() => {
      this.#cancelDeadline = null;
      if (this.#mono() >= deadline) {
        this.#emit({ type: 'deadline', at: this.now() });
        return;
      }
      // A timer that fires far later than asked means the machine slept, and the monotonic
      // clock may have slept with it: edit again only once the server confirms the lease.
      if (Date.now() - armedAt - delay > SLEEP_GAP) this.#emit({ type: 'slept' });
      if (this.#cancelDeadline === null) this.#cancelDeadline = this.#armDeadline(deadline);
    }, delay);
  }
}

function sleptBetween(then: Clock, now: Clock): boolean {
  return now.wall - then.wall - (now.mono - then.mono) > SLEEP_GAP;
}
