'use client';

import { LockOverlay, type LockUser, PageLockProvider } from 'page-lock';
import { pageResourceId } from '../lib/resource-ids';
import { type EditablePage, EditorForm, type EditorIdleSettings } from './editor-form';
import { lockAdapter } from './lock-adapter';

export interface PageEditorProps {
  page: EditablePage;
  /** The signed-in user, as the server's session knows it. */
  user: LockUser;
  /** How often the lease is refreshed (ms); the library's default when not given. */
  pollInterval?: number;
  /** Idle release ("Are you still editing?"); off when not given. */
  idle?: EditorIdleSettings;
}

/**
 * The editor of one page, given to one person at a time: the provider acquires `page:N` on
 * mount, and the overlay covers the form (inert) whenever someone else holds it. There the
 * others can ask to edit and wait in line; the holder is asked to hand the page over, and an
 * idle holder is asked whether they are still editing.
 */
export function PageEditor({ page, user, pollInterval, idle }: PageEditorProps) {
  return (
    <PageLockProvider
      adapter={lockAdapter}
      resourceId={pageResourceId(page.id)}
      user={user}
      pollInterval={pollInterval}
    >
      <LockOverlay backHref="/pages">
        <EditorForm page={page} idle={idle} />
      </LockOverlay>
    </PageLockProvider>
  );
}
