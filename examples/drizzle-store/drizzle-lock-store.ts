/**
 * A page-lock store on Drizzle ORM: one table (`resource_id` primary key, `version`, `record`)
 * and the record store's two functions mapped onto it, for drizzle-orm over better-sqlite3 and
 * over node-postgres. docs/custom-store.md walks through it.
 *
 *   const store = createDrizzleSqliteLockStore({ db: drizzle(new Database('data/app.db')) });
 *   const service = createLockService({ store });
 *
 * Create the table with drizzle-kit from the definitions below, or with `lockTableSql`.
 */
import { and, eq } from 'drizzle-orm';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import * as pg from 'drizzle-orm/pg-core';
import * as sqlite from 'drizzle-orm/sqlite-core';
// In an application: `from 'page-lock/server'`. The repository's tests run this file on the source.
import { createRecordLockStore, type LockRecord, type LockStore } from '../../server-adapter';

/** What the `record` column holds: the record without its version, which has its own column. */
type StoredRecord = Omit<LockRecord, 'version'>;

/** The lock table for SQLite; `name` lets one database hold several (tests do). */
export const sqliteLockTable = (name = 'page_lock_record') =>
  sqlite.sqliteTable(name, {
    resourceId: sqlite.text('resource_id').primaryKey(),
    version: sqlite.integer('version').notNull(),
    record: sqlite.text('record', { mode: 'json' }).$type<StoredRecord>().notNull(),
  });

/** The lock table for Postgres. */
export const pgLockTable = (name = 'page_lock_record') =>
  pg.pgTable(name, {
    resourceId: pg.text('resource_id').primaryKey(),
    version: pg.integer('version').notNull(),
    record: pg.jsonb('record').$type<StoredRecord>().notNull(),
  });

/** The same tables as SQL, for an application that does not run drizzle-kit. */
export const lockTableSql = {
  sqlite: (name = 'page_lock_record') =>
    `CREATE TABLE IF NOT EXISTS "${name}" (resource_id TEXT PRIMARY KEY, version INTEGER NOT NULL, record TEXT NOT NULL)`,
  postgres: (name = 'page_lock_record') =>
    `CREATE TABLE IF NOT EXISTS "${name}" (resource_id text PRIMARY KEY, version integer NOT NULL, record jsonb NOT NULL)`,
};

const split = ({ version, ...record }: LockRecord) => ({ version, record });

/** A lock store on drizzle-orm over better-sqlite3 (open the file in WAL mode for several processes). */
export function createDrizzleSqliteLockStore<Schema extends Record<string, unknown>>(options: {
  db: BetterSQLite3Database<Schema>;
  table?: ReturnType<typeof sqliteLockTable>;
}): LockStore {
  const { db, table = sqliteLockTable() } = options;
  return createRecordLockStore({
    async read(resourceId) {
      const [row] = await db.select().from(table).where(eq(table.resourceId, resourceId));
      return row ? { ...row.record, version: row.version } : null;
    },
    async compareAndSet(resourceId, expectedVersion, next) {
      const { version, record } = split(next);
      // One conditional statement each: the database decides who wrote, never a read first.
      const written =
        expectedVersion === null
          ? await db
              .insert(table)
              .values({ resourceId, version, record })
              .onConflictDoNothing()
              .returning({ version: table.version })
          : await db
              .update(table)
              .set({ version, record })
              .where(and(eq(table.resourceId, resourceId), eq(table.version, expectedVersion)))
              .returning({ version: table.version });
      return written.length === 1;
    },
    async list() {
      const rows = await db.select().from(table);
      return rows.map((row) => ({ ...row.record, version: row.version }));
    },
  });
}

/**
 * A lock store on drizzle-orm over node-postgres. It decides by the service's clock: the server
 * instances that share the database must agree on the time (docs/custom-store.md).
 */
export function createDrizzlePostgresLockStore<Schema extends Record<string, unknown>>(options: {
  db: NodePgDatabase<Schema>;
  table?: ReturnType<typeof pgLockTable>;
}): LockStore {
  const { db, table = pgLockTable() } = options;
  return createRecordLockStore({
    async read(resourceId) {
      const [row] = await db.select().from(table).where(eq(table.resourceId, resourceId));
      return row ? { ...row.record, version: row.version } : null;
    },
    async compareAndSet(resourceId, expectedVersion, next) {
      const { version, record } = split(next);
      // Under READ COMMITTED a concurrent writer's UPDATE waits for ours, then finds the version
      // moved on and changes nothing; a concurrent INSERT finds the key taken and does nothing.
      const written =
        expectedVersion === null
          ? await db
              .insert(table)
              .values({ resourceId, version, record })
              .onConflictDoNothing()
              .returning({ version: table.version })
          : await db
              .update(table)
              .set({ version, record })
              .where(and(eq(table.resourceId, resourceId), eq(table.version, expectedVersion)))
              .returning({ version: table.version });
      return written.length === 1;
    },
    async list() {
      const rows = await db.select().from(table);
      return rows.map((row) => ({ ...row.record, version: row.version }));
    },
  });
}
