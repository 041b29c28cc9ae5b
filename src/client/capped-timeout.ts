/** Browsers (and Node) fire a `setTimeout` longer than this at once. */
export const MAX_TIMEOUT_DELAY = 2 ** 31 - 1;

/**
 * `setTimeout` that waits the whole delay even when it is longer than 2^31−1 ms (about 24.8
 * days) or `Infinity`, which `setTimeout` itself would fire at once. Returns how to cancel it.
 */
export function setCappedTimeout(callback: () => void, delay: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let remaining = Math.max(0, delay);
  const arm = (): void => {
    if (remaining === Number.POSITIVE_INFINITY) return;
    const step = Math.min(remaining, MAX_TIMEOUT_DELAY);
    timer = setTimeout(() => {
      remaining -= step;
      if (remaining > 0) arm();
      else callback();
    }, step);
  };
  arm();
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
}
