/** The table the Postgres store uses unless told otherwise. */
export const DEFAULT_POSTGRES_TABLE = 'page_lock';

const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** A table name checked and quoted for SQL text, and the parts DDL needs. */
export interface LockTableName {
  /** Quoted, schema-qualified when a schema was given: `"app"."page_lock"`. */
  quoted: string;
  /** The index's name, quoted (an index lives in its table's schema, so it is unqualified). */
  quotedIndex: string;
  /** As given, for messages and the migration's advisory lock. */
  text: string;
}

/**
 * Table names go into SQL text, so only plain identifiers are accepted (letters, digits, `_`),
 * optionally qualified by a schema: `page_lock` or `app.page_lock`. This is what keeps the
 * option from ever carrying SQL.
 */
export function parseTableName(table: unknown): LockTableName {
  const parts = typeof table === 'string' ? table.split('.') : [];
  if (parts.length < 1 || parts.length > 2 || !parts.every((p) => PLAIN_IDENTIFIER.test(p))) {
    throw new Error(
      '[page-lock] [postgres] Option "table" must be a plain SQL identifier (letters, digits, "_"), optionally "schema.table"',
    );
  }
  const name = parts[parts.length - 1] as string;
  return {
    quoted: parts.map((p) => `"${p}"`).join('.'),
    quotedIndex: `"${`${name}_expires_at`.slice(0, 63)}"`,
    text: table as string,
  };
}

/**
 * The DDL `store.migrate()` runs (idempotent). One row per resource, never deleted, so the fence
 * survives release, expiry and restarts; `expires_at` copies the grant's `expiresAt` so `list()`
 * and `get()` read live locks through an index:
 *
 * ```sql
 * CREATE TABLE IF NOT EXISTS page_lock (
 *   resource_id text PRIMARY KEY,
 *   fence       bigint NOT NULL DEFAULT 0,     -- the last fence granted
 *   lock        jsonb,                         -- the current grant (live or lapsed), or NULL
 *   expires_at  bigint,                        -- the grant's expiresAt; NULL with no grant
 *   endings     jsonb NOT NULL DEFAULT '[]'    -- the last few endings (token, fence, why)
 * );
 * CREATE INDEX IF NOT EXISTS page_lock_expires_at ON page_lock (expires_at);
 * ```
 */
export function lockTableDdl(table: string): string {
  const name = parseTableName(table);
  return `CREATE TABLE IF NOT EXISTS ${name.quoted} (
  resource_id text PRIMARY KEY,
  fence bigint NOT NULL DEFAULT 0,
  lock jsonb,
  expires_at bigint,
  endings jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS ${name.quotedIndex} ON ${name.quoted} (expires_at);`;
}
