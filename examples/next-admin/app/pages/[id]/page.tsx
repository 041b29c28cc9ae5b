import { notFound, redirect } from 'next/navigation';
import { PageEditor } from '../../../components/page-editor';
import { getPage } from '../../../lib/pages-db';
import { getSessionUser } from '../../../lib/session';
import { idleTimeout, idleWarning, pollInterval } from '../../../lib/settings';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

/** The editor of one page. What is on screen is what was saved when the page loaded. */
export default async function EditPagePage({ params }: { params: Promise<{ id: string }> }) {
  const user = await getSessionUser();
  if (!user) redirect('/');
  const page = getPage(Number((await params).id));
  if (!page) notFound();
  const { id, title, body, version, updatedAt, updatedBy } = page;
  return (
    <section>
      <p>
        <a href="/pages">← All pages</a>
      </p>
      <h1>Edit page {id}</h1>
      <PageEditor
        page={{ id, title, body, version, updatedAt, updatedBy }}
        user={user}
        pollInterval={pollInterval()}
        idle={{ idleTimeout: idleTimeout(), idleWarning: idleWarning() }}
      />
    </section>
  );
}
