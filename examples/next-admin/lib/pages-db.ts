import path from 'node:path';
import Database from 'better-sqlite3';
import { dataDir } from './settings';

/** A page of the demo site, with the fence of the lock it was last saved under. */
export interface Page {
  id: number;
  title: string;
  body: string;
  fence: number;
  updatedAt: number | null;
  updatedBy: string | null;
}

export type SaveOutcome = 'saved' | 'not-found' | 'stale-fence';

interface PageRow {
  id: number;
  title: string;
  body: string;
  fence: number;
  updated_at: number | null;
  updated_by: string | null;
}

const SEED_PAGES = [
  {
    title: 'Home',
    body: 'Welcome to the page-lock demo. Open this page as two users to see the lock at work.',
  },
  { title: 'About us', body: 'We write things down, one editor at a time.' },
  { title: 'Pricing', body: 'Free for everyone who saves what they meant to save.' },
];

/** The content store: its own SQLite file (`content.db`), apart from the lock store. */
function database(): Database.Database {
  const shared = globalThis as { pageLockDemoContent?: Database.Database };
  if (!shared.pageLockDemoContent) {
    const db = new Database(path.join(dataDir(), 'content.db'));
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE IF NOT EXISTS pages (
      id INTEGER PRIMARY KEY,
      title TEXT NOT NULL,
      body TEXT NOT NULL,
      fence INTEGER NOT NULL DEFAULT 0,
      updated_at INTEGER,
      updated_by TEXT
    )`);
    const { count } = db.prepare('SELECT count(*) AS count FROM pages').get() as { count: number };
    if (count === 0) {
      const insert = db.prepare('INSERT INTO pages (title, body) VALUES (?, ?)');
      db.transaction(() => {
        for (const page of SEED_PAGES) insert.run(page.title, page.body);
      })();
    }
    shared.pageLockDemoContent = db;
  }
  return shared.pageLockDemoContent;
}

function toPage(row: PageRow): Page {
  return {
    id: row.id,
    title: row.title,
    body: row.body,
    fence: row.fence,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

export function listPages(): Page[] {
  const rows = database().prepare('SELECT * FROM pages ORDER BY id').all() as PageRow[];
  return rows.map(toPage);
}

export function getPage(id: number): Page | null {
  const row = database().prepare('SELECT * FROM pages WHERE id = ?').get(id) as PageRow | undefined;
  return row ? toPage(row) : null;
}

/**
 * Writes a page under the lock's fence. The lock check before it can race with the lease running
 * out, so the write itself refuses to go under a fence older than the one already stored: a
 * holder whose lease lapsed and was granted to someone else cannot overwrite the newer save.
 */
export function savePage(
  id: number,
  content: { title: string; body: string },
  save: { fence: number; by: string; at: number },
): SaveOutcome {
  const result = database()
    .prepare(
      `UPDATE pages SET title = ?, body = ?, fence = ?, updated_at = ?, updated_by = ?
       WHERE id = ? AND fence <= ?`,
    )
    .run(content.title, content.body, save.fence, save.at, save.by, id, save.fence);
  if (result.changes === 1) return 'saved';
  return getPage(id) ? 'stale-fence' : 'not-found';
}
