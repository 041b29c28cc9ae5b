import path from 'node:path';
import Database from 'better-sqlite3';
import { dataDir } from './settings';

/**
 * A page of the demo site. `version` grows with every save; `fence` is the fence of the lock it
 * was last saved under.
 */
export interface Page {
  id: number;
  title: string;
  body: string;
  version: number;
  fence: number;
  updatedAt: number | null;
  updatedBy: string | null;
}

/** What a save sends: the new content and the version the editor loaded. */
export interface PageEdit {
  title: string;
  body: string;
  version: number;
}

export type SaveOutcome =
  | { status: 'saved'; version: number }
  | { status: 'conflict' }
  | { status: 'not-found' };

interface PageRow {
  id: number;
  title: string;
  body: string;
  version: number;
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

/**
 * Opens (and creates, seeds or migrates) a content database file: the `pages` table. A file
 * from before `version` existed gets the column, every page starting at version 1.
 */
export function openPagesDatabase(filename: string): Database.Database {
  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE IF NOT EXISTS pages (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    fence INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER,
    updated_by TEXT
  )`);
  const columns = db.prepare('PRAGMA table_info(pages)').all() as { name: string }[];
  if (!columns.some((column) => column.name === 'version')) {
    db.exec('ALTER TABLE pages ADD COLUMN version INTEGER NOT NULL DEFAULT 1');
  }
  const { count } = db.prepare('SELECT count(*) AS count FROM pages').get() as { count: number };
  if (count === 0) {
    const insert = db.prepare('INSERT INTO pages (title, body) VALUES (?, ?)');
    db.transaction(() => {
      for (const page of SEED_PAGES) insert.run(page.title, page.body);
    })();
  }
  return db;
}

/**
 * The content store: its own SQLite file (`content.db` in the data folder), apart from the lock
 * store. One connection per file, kept on `globalThis` (Next may load this module more than once).
 */
function database(): Database.Database {
  const filename = path.join(dataDir(), 'content.db');
  const shared = globalThis as { pageLockDemoContent?: Map<string, Database.Database> };
  shared.pageLockDemoContent ??= new Map();
  let db = shared.pageLockDemoContent.get(filename);
  if (!db?.open) {
    db = openPagesDatabase(filename);
    shared.pageLockDemoContent.set(filename, db);
  }
  return db;
}

function toPage(row: PageRow): Page {
  return {
    id: row.id,
    title: row.title,
    body: row.body,
    version: row.version,
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
 * Writes a page only if nobody saved it since the editor loaded it (`version`) and no newer
 * lock holder saved it (`fence`). The lock check before it can race with the lease running out;
 * these two conditions make the write itself refuse what the check could not see. A write that
 * changed nothing is a conflict, never a success.
 */
export function savePage(
  id: number,
  edit: PageEdit,
  save: { fence: number; by: string; at: number },
): SaveOutcome {
  const result = database()
    .prepare(
      `UPDATE pages SET title = ?, body = ?, version = version + 1, fence = ?,
         updated_at = ?, updated_by = ?
       WHERE id = ? AND version = ? AND fence <= ?`,
    )
    .run(edit.title, edit.body, save.fence, save.at, save.by, id, edit.version, save.fence);
  if (result.changes === 1) return { status: 'saved', version: edit.version + 1 };
  return { status: getPage(id) ? 'conflict' : 'not-found' };
}
