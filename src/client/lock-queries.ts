import {
  MutationObserver,
  type QueryClient,
  queryOptions,
  replaceEqualDeep,
} from '@tanstack/react-query';
import type { AnswerRequest, AskRequest, LockAdapter } from '../core/adapter';
import { getTabClientId } from '../core/client-id';
import { type AskResponse, type BatchStatusResponse, MAX_BATCH_IDS } from '../protocol/protocol';

/** The first element of every query and mutation key page-lock puts in the app's QueryClient. */
export const LOCK_QUERY_PREFIX = 'page-lock';

/** Who asks: the adapter (one per signed-in user) and the tab (default: this tab's id). */
export interface LockQueryScope {
  adapter: LockAdapter;
  clientId?: string;
}

const scopes = new WeakMap<LockAdapter, Map<string, number>>();
let nextScope = 1;

/**
 * A number for one adapter and tab id, the last element of every key. It keeps answers apart
 * that must never be shared (react-query de-duplicates and caches by key): two adapters may speak
 * for two signed-in users in one document, and tests and stories put two tabs in one window.
 */
export function lockScope(adapter: LockAdapter, clientId: string): number {
  const byTab = scopes.get(adapter) ?? new Map<string, number>();
  scopes.set(adapter, byTab);
  const scope = byTab.get(clientId) ?? nextScope++;
  byTab.set(clientId, scope);
  return scope;
}

// Shared by every lock query: 423 and 409 are answers, not errors, and for the rest the lock
// decides when to ask again (a retry could land after the lease's deadline), so no retries; and
// `always`, because a request that waits for `navigator.onLine` never fails, and the fail-safe
// needs a failure to count down to `unreachable`.
export const ASK_ONCE = { retry: false, networkMode: 'always' } as const;

/**
 * The lease of one resource for one tab (`['page-lock', resourceId, 'lease', scope]`): the last
 * answer to an acquire or refresh, token included. The tab's lock session fetches it (with
 * `token`, a refresh); an app reads it with `useQuery(lockQueryOptions(id, { adapter }))`, which
 * never fetches (`enabled: false`): an acquire of its own would reclaim the lock with a fresh
 * token and end the session's lease.
 */
export function lockQueryOptions(resourceId: string, scope: LockQueryScope, token?: string | null) {
  const clientId = scope.clientId ?? getTabClientId();
  return queryOptions({
    queryKey: [LOCK_QUERY_PREFIX, resourceId, 'lease', lockScope(scope.adapter, clientId)],
    // Only a refresh may be aborted: a first acquire runs to its end, so that a grant that
    // arrives after the tab moved on is given back instead of lingering until the TTL.
    queryFn: ({ signal }) =>
      token
        ? scope.adapter.acquire(resourceId, { clientId, token }, { signal })
        : scope.adapter.acquire(resourceId, { clientId }),
    enabled: false,
    ...ASK_ONCE,
  });
}

/**
 * Who holds resources, without acquiring them: one id (`GET {base}/{id}`, key `['page-lock', id,
 * 'status', scope]`, what a blocked tab polls), or many in one batch request (`GET {base}?ids=…`,
 * key `['page-lock', ids, 'status', scope]`, split above the protocol's 100 ids: what
 * `useLockStatus` polls). Safe to use in an app's own `useQuery`.
 */
export function lockStatusQueryOptions(
  resourceId: string,
  scope: LockQueryScope,
): ReturnType<typeof lookOptions>;
export function lockStatusQueryOptions(
  resourceIds: readonly string[],
  scope: LockQueryScope,
): ReturnType<typeof batchOptions>;
export function lockStatusQueryOptions(ids: string | readonly string[], scope: LockQueryScope) {
  return typeof ids === 'string' ? lookOptions(ids, scope) : batchOptions(ids, scope);
}

function lookOptions(resourceId: string, scope: LockQueryScope) {
  const clientId = scope.clientId ?? getTabClientId();
  return queryOptions({
    queryKey: [LOCK_QUERY_PREFIX, resourceId, 'status', lockScope(scope.adapter, clientId)],
    queryFn: ({ signal }) => scope.adapter.status(resourceId, { clientId }, { signal }),
    ...ASK_ONCE,
  });
}

function batchOptions(resourceIds: readonly string[], scope: LockQueryScope) {
  const clientId = scope.clientId ?? getTabClientId();
  const ids = [...resourceIds].sort();
  return queryOptions({
    queryKey: [LOCK_QUERY_PREFIX, ids, 'status', lockScope(scope.adapter, clientId)],
    queryFn: async ({ signal }): Promise<BatchStatusResponse> => {
      const chunks: string[][] = [];
      for (let i = 0; i < ids.length; i += MAX_BATCH_IDS)
        chunks.push(ids.slice(i, i + MAX_BATCH_IDS));
      const answers = await Promise.all(
        chunks.map((chunk) => scope.adapter.statusMany(chunk, { clientId }, { signal })),
      );
      const merged: BatchStatusResponse = { locks: {}, ttlMs: 0, now: 0 };
      for (const answer of answers) {
        Object.assign(merged.locks, answer.locks);
        merged.ttlMs = answer.ttlMs;
        merged.now = answer.now;
      }
      return merged;
    },
    ...ASK_ONCE,
  });
}

/**
 * The writes of one tab's lock session, as react-query mutations (keys `['page-lock', resourceId,
 * 'release' | 'takeover' | 'ask' | 'answer']`). An ask's answer is structurally shared with the
 * previous one, as the queries' are: an unchanged holder in a renew stays the same object, so a
 * component that shows it is not rendered again.
 */
export function lockMutations(
  client: QueryClient,
  { adapter, clientId }: Required<LockQueryScope>,
  resourceId: string,
) {
  const observe = <V, R>(name: string, mutationFn: (variables: V) => Promise<R>) =>
    new MutationObserver(client, {
      mutationKey: [LOCK_QUERY_PREFIX, resourceId, name],
      mutationFn,
      ...ASK_ONCE,
    });
  const missing = (method: string) =>
    new Error(`[page-lock] [lock] the adapter has no ${method}(): it cannot ${method}`);
  let lastAsk: AskResponse | undefined;
  return {
    release: observe('release', ({ token, reason }: { token: string; reason?: 'idle' }) =>
      reason ? adapter.release(resourceId, token, { reason }) : adapter.release(resourceId, token),
    ),
    takeOver: observe('takeover', (expectedFence: number) =>
      adapter.takeOver(resourceId, { clientId, expectedFence }),
    ),
    ask: observe('ask', async (request: Omit<AskRequest, 'clientId'>) => {
      if (!adapter.ask) throw missing('ask');
      lastAsk = replaceEqualDeep(lastAsk, await adapter.ask(resourceId, { clientId, ...request }));
      return lastAsk;
    }),
    answer: observe('answer', async (request: AnswerRequest) => {
      if (!adapter.answer) throw missing('answer');
      return adapter.answer(resourceId, request);
    }),
  };
}
