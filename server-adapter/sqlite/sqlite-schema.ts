/** The table the SQLite store uses unless told otherwise. */
export const DEFAULT_SQLITE_TABLE = 'page_lock';

const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Table names go into SQL text, so only plain identifiers are accepted. */
export function checkTableName(table: unknown): string {
  if (typeof table !== 'string' || !PLAIN_IDENTIFIER.test(table)) {
    throw new Error(
      '[page-lock] [sqlite] Option "table" must be a plain SQL identifier (letters, digits, "_")',
    );
  }
  return table;
}

/**
 * The DDL the store runs on start (it is idempotent). One row per resource, never deleted, so
 * the fence survives release, expiry and restarts:
 *
 * ```sql
 * CREATE TABLE IF NOT EXISTS page_lock (
 *   resource_id TEXT PRIMARY KEY NOT NULL,
 *   fence       INTEGER NOT NULL,        -- the last fence granted
 *   lock        TEXT,                    -- the current grant as JSON (live or lapsed), or NULL
 *   expires_at  INTEGER,                 -- the grant's expiresAt; NULL with no grant
 *   endings     TEXT NOT NULL DEFAULT '[]' -- the last few endings as JSON
 * );
 * DROP INDEX IF EXISTS page_lock_expires_at;
 * ```
 *
 * `expires_at` has no index (0.1.0 made one; the DDL drops it): every refresh moves
 * `expires_at`, and an index on it wrote a second page per refresh, a third of a refresh's
 * cost. Only `list()` (an admin screen) filters on it without the primary key: it scans the
 * table instead.
 */
export function lockTableDdl(table: string): string {
  return `
    CREATE TABLE IF NOT EXISTS "${table}" (
      resource_id TEXT PRIMARY KEY NOT NULL,
      fence INTEGER NOT NULL,
      lock TEXT,
      expires_at INTEGER,
      endings TEXT NOT NULL DEFAULT '[]'
    );
    DROP INDEX IF EXISTS "${table}_expires_at";
  `;
}
