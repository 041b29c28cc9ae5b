import { redirect } from 'next/navigation';
import { getSessionUser } from '../lib/session';
import { DEMO_USERS } from '../lib/users';

export const dynamic = 'force-dynamic';

/** The sign-in picker: choose who you are. Use another browser (or a private window) for a second user. */
export default async function SignInPage() {
  if (await getSessionUser()) redirect('/pages');
  return (
    <section className="demo-card">
      <h1>Who are you?</h1>
      <p>
        Pick a user. To see the lock at work, sign in as someone else in another browser or a
        private window and open the same page.
      </p>
      <form method="post" action="/api/session" className="demo-user-picker">
        {DEMO_USERS.map((user) => (
          <button key={user.id} type="submit" name="user" value={user.id}>
            {user.name}
            <small>
              {user.role === 'editor-in-chief' ? 'editor-in-chief: may take over' : 'editor'}
            </small>
          </button>
        ))}
      </form>
    </section>
  );
}
