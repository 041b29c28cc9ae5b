/**
 * A copy of `value` that records which properties are read into `tracked`, so that a component
 * is told about a change only when a property it actually read changed (react-query's tracked
 * results, the same idea).
 */
export function trackProperties<T extends object>(value: T, tracked: Set<keyof T>): T {
  const result = {} as T;
  for (const key of Object.keys(value) as Array<keyof T>) {
    Object.defineProperty(result, key, {
      enumerable: true,
      configurable: false,
      get: () => {
        tracked.add(key);
        return value[key];
      },
    });
  }
  return result;
}

/** Whether `next` differs from `previous` in any tracked property (any property when none is). */
export function changedTracked<T extends object>(
  previous: T | undefined,
  next: T,
  tracked: ReadonlySet<keyof T>,
): boolean {
  if (previous === next) return false;
  if (previous === undefined || tracked.size === 0) return true;
  for (const key of tracked) if (!Object.is(previous[key], next[key])) return true;
  return false;
}
