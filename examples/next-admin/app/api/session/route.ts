import { SESSION_COOKIE } from '../../../lib/session';
import { findDemoUser } from '../../../lib/users';

export const runtime = 'nodejs';

/**
 * Signs in as the demo user named by the form field `user` (or signs out when it is empty),
 * then goes to the page list. A plain form post: it works before any JavaScript runs.
 */
export async function POST(request: Request): Promise<Response> {
  const form = await request.formData();
  const user = findDemoUser(String(form.get('user') ?? ''));
  const headers = new Headers({ Location: user ? '/pages' : '/' });
  const cookie = user
    ? `${SESSION_COOKIE}=${encodeURIComponent(user.id)}; Path=/; HttpOnly; SameSite=Lax`
    : `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;
  headers.append('Set-Cookie', cookie);
  return new Response(null, { status: 303, headers });
}
