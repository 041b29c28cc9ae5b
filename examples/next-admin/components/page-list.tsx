'use client';

import { type LockUser, PageLockProvider, useLockStatus } from 'page-lock';
import { pageResourceId } from '../lib/resource-ids';
import { lockAdapter } from './lock-adapter';

/** A row of the page list. */
export interface PageSummary {
  id: number;
  title: string;
  updatedAt: number | null;
  updatedBy: string | null;
}

export interface PageListProps {
  pages: PageSummary[];
  /** The signed-in user, so the list can tell "you" from others. */
  user: LockUser;
  /** How often the badges are refreshed (ms). */
  pollInterval?: number;
}

/** The pages, with a badge on each that someone is editing, kept live by polling. */
export function PageList({ pages, user, pollInterval }: PageListProps) {
  return (
    <PageLockProvider adapter={lockAdapter} user={user} pollInterval={pollInterval}>
      <PageRows pages={pages} />
    </PageLockProvider>
  );
}

function PageRows({ pages }: { pages: PageSummary[] }) {
  const statuses = useLockStatus(pages.map((page) => pageResourceId(page.id)));
  return (
    <ul className="demo-page-list">
      {pages.map((page) => {
        const status = statuses[pageResourceId(page.id)];
        const holder =
          status?.status === 'locked' || status?.status === 'held' ? status.holder : null;
        return (
          <li key={page.id} data-testid={`page-row-${page.id}`}>
            <a href={`/pages/${page.id}`}>{page.title}</a>
            {holder ? (
              <span className="demo-badge" data-testid={`lock-badge-${page.id}`}>
                {status?.isSelf ? 'You are editing' : `${holder.name} is editing`}
              </span>
            ) : null}
          </li>
        );
      })}
    </ul>
  );
}
