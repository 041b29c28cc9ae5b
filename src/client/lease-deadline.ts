import { setCappedTimeout } from './capped-timeout';
import { SLEEP_GAP } from './lock-phases';

/**
 * A timer for the lease's deadline on the monotonic clock: `due` once it passed. One that fires
 * far later than asked means the machine slept, and the monotonic clock may have slept with it:
 * `slept` (edit again only once the server confirms the lease), then it waits for the rest.
 * Returns how to cancel it.
 */
export function armDeadline(
  deadline: number,
  mono: () => number,
  on: { due(): void; slept(): void },
): () => void {
  let cancelled = false;
  let cancel = (): void => {};
  const arm = (): void => {
    const delay = Math.max(0, deadline - mono());
    const armedAt = Date.now();
    cancel = setCappedTimeout(() => {
      if (mono() >= deadline) return on.due();
      if (Date.now() - armedAt - delay > SLEEP_GAP) on.slept();
      if (!cancelled) arm();
    }, delay);
  };
  arm();
  return () => {
    cancelled = true;
    cancel();
  };
}
