'use client';

import { LockOverlay, PageLockProvider } from 'page-lock';
import { pageResourceId } from '../lib/resource-ids';
import { type EditablePage, EditorForm } from './editor-form';
import { lockAdapter } from './lock-adapter';

export interface PageEditorProps {
  page: EditablePage;
  /** How often the lease is refreshed (ms); the library's default when not given. */
  pollInterval?: number;
}

/**
 * The editor of one page, given to one person at a time: the provider acquires `page:N` on
 * mount, and the overlay covers the form (inert) whenever someone else holds it.
 */
export function PageEditor({ page, pollInterval }: PageEditorProps) {
  return (
    <PageLockProvider
      adapter={lockAdapter}
      resourceId={pageResourceId(page.id)}
      pollInterval={pollInterval}
    >
      <LockOverlay backHref="/pages">
        <EditorForm page={page} />
      </LockOverlay>
    </PageLockProvider>
  );
}
