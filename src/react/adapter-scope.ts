import type { LockAdapter } from '../core/adapter';

const scopes = new WeakMap<LockAdapter, number>();
let nextScope = 1;

/**
 * A number that stands for one adapter object: sessions, status polls and their react-query keys
 * are kept apart per adapter, because two adapters may speak for two different users (each its
 * own sign-in) in one document. One adapter shared by several providers gives one scope.
 */
export function adapterScope(adapter: LockAdapter): number {
  let scope = scopes.get(adapter);
  if (scope === undefined) {
    scope = nextScope++;
    scopes.set(adapter, scope);
  }
  return scope;
}
