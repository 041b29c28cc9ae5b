import { vi } from 'vitest';
import type { LockUser } from '../../src/protocol/protocol';
import type { PageLockState } from '../../src/react/types';

// The fake `usePageLock` state the overlay tests render parts with: real components, no server.

export const me: LockUser = { id: 'u-me', name: 'Me' };
export const SINCE = Date.UTC(2026, 10, 26, 10, 42);
export const MINUTE = 60_000;
/** The server's clock reads five minutes after SINCE, whatever the local clock says. */
export const serverOffset = (): number => SINCE + 5 * MINUTE - Date.now();

/** A lock state as `usePageLock` returns it, held by `me`, with spies for the actions. */
export function lockState(overrides: Partial<PageLockState> = {}): PageLockState {
  return {
    status: 'held',
    isChecking: false,
    resourceId: 'page:42',
    holder: me,
    since: SINCE,
    expiresAt: SINCE + 90_000,
    lock: null,
    isOwner: true,
    isSelf: false,
    canTakeOver: false,
    reason: null,
    token: 'token-1',
    fence: 1,
    error: null,
    serverTimeOffset: serverOffset(),
    requests: [],
    place: null,
    askState: null,
    waiting: 0,
    idleReleaseAt: null,
    canAsk: false,
    acquire: vi.fn(),
    release: vi.fn(async () => {}),
    takeOver: vi.fn(async () => {}),
    retry: vi.fn(),
    recheck: vi.fn(async () => {}),
    ask: vi.fn(),
    leaveQueue: vi.fn(),
    handOver: vi.fn(async () => {}),
    decline: vi.fn(async () => {}),
    keepEditing: vi.fn(),
    ...overrides,
  };
}
