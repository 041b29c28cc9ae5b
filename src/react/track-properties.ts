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
export function changedTracked(
  previous: object | undefined,
  next: object,
  tracked: ReadonlySet<PropertyKey>,
): boolean {
  if (previous === next) return false;
  if (previous === undefined || tracked.size === 0) return true;
  const before = previous as Record<PropertyKey, unknown>;
  const after = next as Record<PropertyKey, unknown>;
  for (const key of tracked) if (!Object.is(before[key], after[key])) return true;
  return false;
}
