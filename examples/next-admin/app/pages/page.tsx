import { redirect } from 'next/navigation';
import { PageList } from '../../components/page-list';
import { listPages } from '../../lib/pages-db';
import { getSessionUser } from '../../lib/session';
import { pollInterval } from '../../lib/settings';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

/** Every page, each with a live badge saying who is editing it. */
export default async function PagesPage() {
  if (!(await getSessionUser())) redirect('/');
  const pages = listPages().map(({ id, title, updatedAt, updatedBy }) => ({
    id,
    title,
    updatedAt,
    updatedBy,
  }));
  return (
    <section>
      <h1>Pages</h1>
      <PageList pages={pages} pollInterval={pollInterval()} />
    </section>
  );
}
