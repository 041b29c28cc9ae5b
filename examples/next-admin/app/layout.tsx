import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { SignOutButton } from '../components/sign-out-button';
import { getSessionUser } from '../lib/session';
import 'page-lock/styles.css';
import './demo.css';

export const metadata: Metadata = {
  title: 'page-lock demo',
  description: 'One editor per page: a small admin editor built on page-lock.',
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  const user = await getSessionUser();
  return (
    <html lang="en">
      <body>
        <header className="demo-header">
          <a href="/pages" className="demo-brand">
            page-lock demo
          </a>
          {user ? (
            <span className="demo-session">
              Signed in as <strong data-testid="session-user">{user.name}</strong>
              <SignOutButton />
            </span>
          ) : null}
        </header>
        <main className="demo-main">{children}</main>
      </body>
    </html>
  );
}
