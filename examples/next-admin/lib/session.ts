import { cookies } from 'next/headers';
import type { LockUser } from 'page-lock/server';
import { findDemoUser, toLockUser } from './users';

/**
 * The demo's session: a cookie naming one of the demo users. A real application signs it (or
 * keeps the session server-side); what matters here is that the lock routes learn the user from
 * the session on the server, never from the request body.
 */
export const SESSION_COOKIE = 'page-lock-demo-user';

/** The signed-in user of a request (route handlers, `getUser` of the lock routes). */
export function getRequestUser(request: Request): LockUser | null {
  const header = request.headers.get('cookie') ?? '';
  for (const part of header.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) {
      const user = findDemoUser(decodeURIComponent(value.join('=')));
      return user ? toLockUser(user) : null;
    }
  }
  return null;
}

/** The signed-in user while rendering a server component. */
export async function getSessionUser(): Promise<LockUser | null> {
  const user = findDemoUser((await cookies()).get(SESSION_COOKIE)?.value);
  return user ? toLockUser(user) : null;
}
