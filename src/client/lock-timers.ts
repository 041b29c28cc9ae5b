import { armDeadline } from './lease-deadline';
import type { Clock, PollKind } from './lock-machine';

/** What the timers tell the session, and how often it polls. */
export interface LockTimerEvents {
  mono: () => number;
  now: () => Clock;
  /** The poll interval for `what`, from the users' options and the server's ttl. */
  every(what: PollKind): number;
  pollDue(): void;
  deadline(at: Clock): void;
  slept(): void;
}

/**
 * A session's two timers: the poll (an interval for the phase's request) and the lease's
 * fail-safe deadline. The machine arms and disarms them through its `poll` and `deadline`
 * effects; stopping disarms both.
 */
export class LockTimers {
  readonly #on: LockTimerEvents;
  #poll: { what: PollKind; timer: ReturnType<typeof setInterval> } | null = null;
  #cancelDeadline?: () => void;

  constructor(on: LockTimerEvents) {
    this.#on = on;
  }

  // Re-armed by every new phase: a tick while a request is on its way asks nothing (that request
  // counts), and one that never settles does not stop the polls.
  armPoll(what: PollKind | null): void {
    if (this.#poll) clearInterval(this.#poll.timer);
    this.#poll = what && { what, timer: setInterval(this.#on.pollDue, this.#on.every(what)) };
  }

  /** The users' options changed: the poll, if armed, takes its new interval. */
  rearmPoll(): void {
    if (this.#poll) this.armPoll(this.#poll.what);
  }

  armDeadline(deadline: number | null): void {
    this.#cancelDeadline?.();
    const { mono, now, slept } = this.#on;
    this.#cancelDeadline =
      deadline === null
        ? undefined
        : armDeadline(deadline, mono, { due: () => this.#on.deadline(now()), slept });
  }
}
