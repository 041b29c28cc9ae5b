import { redirect } from 'next/navigation';
import { PageList } from '../../components/page-list';
import { listPages } from '../../lib/pages-db';
import { getSessionUser } from '../../lib/session';
import { pollInterval } from '../../lib/settings';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

/** Every page, each with a live badge saying who is editing it. */
export default async function PagesPage() {
  const user = await getSessionUser();
  if (!user) redirect('/');
  const pages = listPages().map(({ id, title, updatedAt, updatedBy }) => ({
    id,
    title,
    updatedAt,
    updatedBy,
  }));
  return (
    <section>
      <h1>Pages</h1>
      <PageList pages={pages} user={user} pollInterval={pollInterval()} />
    </section>
  );
}
