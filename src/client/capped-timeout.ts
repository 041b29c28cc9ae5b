/** Browsers (and Node) fire a `setTimeout` longer than this at once. */
export const MAX_TIMEOUT_DELAY = 2 ** 31 - 1;

/** `setTimeout` that waits the whole delay, even beyond MAX_TIMEOUT_DELAY or `Infinity`. */
export function setCappedTimeout(callback: () => void, delay: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (remaining: number): void => {
    const step = Math.min(remaining, MAX_TIMEOUT_DELAY);
    if (remaining !== Infinity)
      timer = setTimeout(() => (remaining > step ? arm(remaining - step) : callback()), step);
  };
  arm(Math.max(0, delay));
  return () => clearTimeout(timer);
}
