import { fn } from 'storybook/test';
import type { LockAdapter } from '../../src/core/adapter';
import { createHttpLockAdapter } from '../../src/core/http-adapter';
import { createMemoryLockAdapter } from '../../src/memory/memory-adapter';
import {
  createMemoryLockServer,
  type MemoryLockServer,
  type MemoryLockServerOptions,
} from '../../src/memory/memory-server';
import { createLockHandlers } from '../../src/msw';
import type { AskState, LockUser, Waiter } from '../../src/protocol/protocol';
import { me } from './users';

/** Where this story's own tab sends its lock requests; MSW answers them in the browser. */
export const LOCKS_BASE_URL = '/api/locks';

/** How often the story's tab polls: short, so hand-overs show within a second or two. */
export const STORY_POLL_INTERVAL = 1_000;

/**
 * Someone else's tab on the story's lock server: another user, or the story's user in another
 * tab. It drives the server directly through a memory adapter (no overlay of its own).
 */
export interface OtherTab {
  readonly user: LockUser;
  readonly clientId: string;
  /** Acquires `resourceId`; throws if the server does not grant it. */
  acquire(resourceId: string): Promise<void>;
  /** Keeps the lease alive while the server's clock moves on `ms`, refreshing as a tab would. */
  holdFor(resourceId: string, ms: number): Promise<void>;
  /** Takes `resourceId` over from its holder; throws if the server refuses. */
  takeOver(resourceId: string): Promise<void>;
  /** Gives `resourceId` back. */
  release(resourceId: string): Promise<void>;
  /** What this tab's next refresh would be told: `held`, or why it is `lost`. */
  refresh(resourceId: string): Promise<string>;
  /** Asks to edit `resourceId` (with a note); returns its place in line. */
  ask(resourceId: string, message?: string): Promise<number>;
  /** Its place in line and what became of its request, as its next poll would see them. */
  placeInLine(resourceId: string): Promise<{ place: number; request: AskState } | 'held'>;
  /** Leaves the line. */
  leave(resourceId: string): Promise<void>;
  /** Who waits for the page this tab holds, as its next refresh would see them. */
  waiters(resourceId: string): Promise<Waiter[]>;
  /** Answers the first pending request (or `waiterId`'s) of the page this tab holds. */
  answer(resourceId: string, answer: 'hand-over' | 'decline', waiterId?: string): Promise<void>;
}

/** Everything a lock story runs on: a fresh memory lock server and this tab's adapter. */
export interface LockWorld {
  readonly server: MemoryLockServer;
  /** The resource the story's editor edits. */
  readonly resourceId: string;
  /** The story's own tab: the HTTP adapter, answered by MSW from {@link server}. */
  readonly adapter: LockAdapter;
  /** The story's own tab id, so nothing depends on sessionStorage. */
  readonly clientId: string;
  /** Another tab (of `user`) on the same server; the same object for the same user and id. */
  tabOf(user: LockUser, clientId?: string): OtherTab;
  /** Spies given to the provider: a blocked tab seeing the page free must not reload the canvas. */
  readonly callbacks: {
    onAvailable: ReturnType<typeof fn>;
    onLost: ReturnType<typeof fn>;
    onAcquired: ReturnType<typeof fn>;
  };
}

/** The part of a story's context a world needs: MSW's worker, from the preview's loader. */
interface WorldContext {
  id: string;
  msw: { use: (...handlers: ReturnType<typeof createLockHandlers>) => void };
}

export interface LockWorldOptions extends MemoryLockServerOptions {
  /** Put the server in the state the story shows, before the story renders. */
  setup?: (world: LockWorld) => Promise<void>;
}

/**
 * A story loader that builds a {@link LockWorld}: a memory lock server (options as given), MSW
 * handlers from `page-lock/msw` that answer this tab's HTTP requests as {@link me}, and the
 * `setup` run on it. The story reads it as `loaded.world`.
 *
 * @example
 * loaders: [lockWorldLoader({ setup: (world) => world.tabOf(alice).acquire(world.resourceId) })]
 */
export function lockWorldLoader(options: LockWorldOptions = {}) {
  return async (context: WorldContext): Promise<{ world: LockWorld }> => {
    const { setup, ...serverOptions } = options;
    const server = createMemoryLockServer({ onError: () => {}, ...serverOptions });
    const tabs = new Map<string, OtherTab>();
    context.msw.use(...createLockHandlers({ baseUrl: LOCKS_BASE_URL, server, user: me }));
    const world: LockWorld = {
      server,
      resourceId: `page:${context.id}`,
      adapter: createHttpLockAdapter({ baseUrl: LOCKS_BASE_URL }),
      clientId: 'this-tab',
      tabOf(user, clientId = `${user.id}-tab`) {
        const key = JSON.stringify([user.id, clientId]);
        let tab = tabs.get(key);
        if (!tab) {
          tab = createOtherTab(server, user, clientId);
          tabs.set(key, tab);
        }
        return tab;
      },
      callbacks: {
        onAvailable: fn().mockName('onAvailable'),
        onLost: fn().mockName('onLost'),
        onAcquired: fn().mockName('onAcquired'),
      },
    };
    await setup?.(world);
    return { world };
  };
}

function createOtherTab(server: MemoryLockServer, user: LockUser, clientId: string): OtherTab {
  const adapter = createMemoryLockAdapter({ user, server });
  const tokens = new Map<string, string>();
  const fail = (what: string, answer: unknown): never => {
    throw new Error(
      `[page-lock] [stories] ${user.name} could not ${what}: ${JSON.stringify(answer)}`,
    );
  };
  const tab: OtherTab = {
    user,
    clientId,
    async acquire(resourceId) {
      const answer = await adapter.acquire(resourceId, { clientId });
      if (answer.status !== 'held') fail(`acquire ${resourceId}`, answer);
      else tokens.set(resourceId, answer.token);
    },
    async holdFor(resourceId, ms) {
      const token = tokens.get(resourceId) ?? fail(`refresh ${resourceId}`, 'not held');
      // Refresh at a third of the TTL, as a tab polling on time would.
      const step = 30_000;
      for (let left = ms; left > 0; left -= step) {
        server.advance(Math.min(step, left));
        const answer = await adapter.acquire(resourceId, { clientId, token });
        if (answer.status !== 'held') fail(`keep ${resourceId}`, answer);
      }
    },
    async takeOver(resourceId) {
      const seen = await adapter.status(resourceId, { clientId });
      const expectedFence = seen.status === 'free' ? 0 : (seen.lock?.fence ?? 0);
      const answer = await adapter.takeOver(resourceId, { clientId, expectedFence });
      if (answer.status !== 'held') fail(`take over ${resourceId}`, answer);
      else tokens.set(resourceId, answer.token);
    },
    async release(resourceId) {
      const token = tokens.get(resourceId) ?? fail(`release ${resourceId}`, 'not held');
      await adapter.release(resourceId, token);
      tokens.delete(resourceId);
    },
    async refresh(resourceId) {
      const token = tokens.get(resourceId) ?? fail(`refresh ${resourceId}`, 'not held');
      const answer = await adapter.acquire(resourceId, { clientId, token });
      return answer.status === 'lost' ? answer.reason : answer.status;
    },
    async ask(resourceId, message) {
      if (!adapter.ask) return fail('ask', 'no ask in this adapter');
      const answer = await adapter.ask(resourceId, { clientId, ...(message ? { message } : {}) });
      return answer.status === 'queued' ? answer.place : fail(`ask for ${resourceId}`, answer);
    },
    async placeInLine(resourceId) {
      if (!adapter.ask) return fail('ask', 'no ask in this adapter');
      const answer = await adapter.ask(resourceId, { clientId, renew: true });
      if (answer.status !== 'queued') {
        tokens.set(resourceId, answer.token);
        return 'held';
      }
      return { place: answer.place, request: answer.waiter.request };
    },
    async leave(resourceId) {
      if (!adapter.leave) return fail('leave', 'no leave in this adapter');
      await adapter.leave(resourceId, clientId);
    },
    async waiters(resourceId) {
      const token = tokens.get(resourceId) ?? fail(`refresh ${resourceId}`, 'not held');
      const answer = await adapter.acquire(resourceId, { clientId, token });
      return answer.status === 'held' ? (answer.waiters ?? []) : fail(`keep ${resourceId}`, answer);
    },
    async answer(resourceId, answer, waiterId) {
      if (!adapter.answer) return fail('answer', 'no answer in this adapter');
      const token = tokens.get(resourceId) ?? fail(`answer for ${resourceId}`, 'not held');
      const waiting = await tab.waiters(resourceId);
      const id =
        waiterId ??
        waiting.find((waiter) => waiter.request === 'pending')?.id ??
        fail(`answer for ${resourceId}`, 'nobody asks');
      const outcome = await adapter.answer(resourceId, { token, waiterId: id, answer });
      if (outcome.status === 'handed-over') tokens.delete(resourceId);
    },
  };
  return tab;
}
