import type { Lock, LockUser } from '../../src/protocol/protocol';
import type { LockChange } from './lock-feed';

const CHANGES: ReadonlySet<string> = new Set<LockChange['change']>([
  'acquired',
  'released',
  'taken-over',
  'force-released',
  'asked',
  'declined',
  'handed-over',
  'idle-released',
  'left',
]);

/** A change as it travels between instances (Redis pub/sub, Postgres NOTIFY): plain JSON. */
export function encodeLockChange(change: LockChange): string {
  return JSON.stringify(change);
}

/**
 * The change a message carries, or null when it is not one: a transport channel is shared text,
 * and whatever else lands on it (another program, an older version, a typo in `redis-cli`) must
 * never reach a listener, nor throw into one. The change is rebuilt field by field, so nothing
 * but what a {@link LockChange} holds is passed on.
 */
export function decodeLockChange(message: string): LockChange | null {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return null;
  }
  if (!isRecord(value)) return null;
  const { resourceId, change, lock, at } = value;
  if (typeof resourceId !== 'string' || typeof change !== 'string' || !CHANGES.has(change)) {
    return null;
  }
  if (!isFiniteNumber(at)) return null;
  const decodedLock = lock === null ? null : decodeLock(lock);
  if (decodedLock === undefined) return null;
  return { resourceId, change: change as LockChange['change'], lock: decodedLock, at };
}

/** The lock, or undefined when the value is not one. */
function decodeLock(value: unknown): Lock | undefined {
  if (!isRecord(value)) return undefined;
  const { resourceId, holder, since, acquiredAt, expiresAt, fence } = value;
  if (typeof resourceId !== 'string') return undefined;
  const user = decodeUser(holder);
  if (!user) return undefined;
  if (![since, acquiredAt, expiresAt, fence].every(isFiniteNumber)) return undefined;
  return {
    resourceId,
    holder: user,
    since: since as number,
    acquiredAt: acquiredAt as number,
    expiresAt: expiresAt as number,
    fence: fence as number,
  };
}

function decodeUser(value: unknown): LockUser | undefined {
  if (!isRecord(value)) return undefined;
  const { id, name, avatarUrl } = value;
  if (typeof id !== 'string' || typeof name !== 'string') return undefined;
  if (avatarUrl === undefined) return { id, name };
  return typeof avatarUrl === 'string' ? { id, name, avatarUrl } : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
