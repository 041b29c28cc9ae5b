import type { LockUser } from 'page-lock/server';

// A stand-in for your application's real session: the `demo-user` cookie names one of two demo
// users, with no password. Replace `getDemoUser` with your own session lookup (a signed cookie,
// a JWT, Passport's `req.user` carried over by a header your auth layer sets…).
const DEMO_USERS: Record<string, LockUser> = {
  alice: { id: 'alice', name: 'Alice' },
  bob: { id: 'bob', name: 'Bob' },
};

/** The signed-in user of a lock request, or null (the handler answers 401). */
export function getDemoUser(request: Request): LockUser | null {
  const name = /(?:^|;\s*)demo-user=(\w+)/.exec(request.headers.get('Cookie') ?? '')?.[1];
  return (name && DEMO_USERS[name]) || null;
}
