import type { Lock, LockUser } from 'page-lock/server';

/** A demo user. `role` decides who may take a page from someone else. */
export interface DemoUser extends LockUser {
  role: 'editor' | 'editor-in-chief';
}

/**
 * The people of the demo; the sign-in picker offers each of them. Four, so a line of three can
 * wait behind the one editing ("Ask to edit").
 */
export const DEMO_USERS: readonly DemoUser[] = [
  { id: 'alice', name: 'Alice', role: 'editor' },
  { id: 'bob', name: 'Bob', role: 'editor' },
  { id: 'carol', name: 'Carol', role: 'editor-in-chief' },
  { id: 'dan', name: 'Dan', role: 'editor' },
];

export function findDemoUser(id: string | undefined): DemoUser | null {
  return DEMO_USERS.find((user) => user.id === id) ?? null;
}

/** Only the editor-in-chief may take a page from another editor (the service's `canTakeOver`). */
export function canTakeOver(user: LockUser, _lock: Lock): boolean {
  return findDemoUser(user.id)?.role === 'editor-in-chief';
}

/** The part of a user the lock service shows to others: no role, nothing private. */
export function toLockUser(user: DemoUser): LockUser {
  return { id: user.id, name: user.name };
}
