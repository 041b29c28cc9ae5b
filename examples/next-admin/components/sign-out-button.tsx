/** Signs out: a plain form post to the session route with no user. */
export function SignOutButton() {
  return (
    <form method="post" action="/api/session" className="demo-inline-form">
      <button type="submit" name="user" value="">
        Sign out
      </button>
    </form>
  );
}
