import Database from 'better-sqlite3';
import {
  applyAcquire,
  applyCheck,
  applyForceRelease,
  applyRelease,
  applyTakeOver,
  isLive,
  type RememberedEnding,
  type ResourceRecord,
  type RuleOutcome,
} from '../store/lock-rules';
import type { LockStore, StoredLock } from '../store/lock-store';
import { checkTableName, DEFAULT_SQLITE_TABLE, lockTableDdl } from './sqlite-schema';

/** How long a call waits for another process's transaction on the same file, in ms. */
const BUSY_TIMEOUT_MS = 5_000;

interface CommonOptions {
  /** Table name (default `page_lock`); created if missing, see {@link lockTableDdl}. */
  table?: string;
}

/**
 * Where the SQLite store keeps its rows: a file it opens (and closes), or a better-sqlite3
 * database the application already opened (and closes itself).
 */
export type SqliteLockStoreOptions =
  | (CommonOptions & {
      /** Path of the database file; opened in WAL mode with a busy timeout. */
      filename: string;
      database?: never;
    })
  | (CommonOptions & {
      /**
       * An open better-sqlite3 database. Its settings are left as they are: WAL mode
       * (`database.pragma('journal_mode = WAL')`) is recommended when several processes share
       * the file.
       */
      database: Database.Database;
      filename?: never;
    });

/** A {@link LockStore} in SQLite. `close()` closes the database only if the store opened it. */
export interface SqliteLockStore extends LockStore {
  close(): Promise<void>;
}

interface LockRow {
  fence: number;
  lock: string | null;
  endings: string;
}

/**
 * The embedded default store, over better-sqlite3: one row per resource. Every change runs in
 * one immediate transaction that reads the row and applies the shared lock rules, so an acquire
 * is atomic even when several processes share the file.
 *
 * @example
 * ```ts
 * const store = createSqliteLockStore({ filename: './data/locks.db' });
 * const service = createLockService({ store });
 * ```
 */
export function createSqliteLockStore(options: SqliteLockStoreOptions): SqliteLockStore {
  const { db, ownsDatabase } = openDatabase(options);
  const table = checkTableName(options.table ?? DEFAULT_SQLITE_TABLE);
  db.exec(lockTableDdl(table));

  const selectRecord = db.prepare<[string], LockRow>(
    `SELECT fence, lock, endings FROM "${table}" WHERE resource_id = ?`,
  );
  const upsertRecord = db.prepare<[string, number, string | null, number | null, string]>(
    `INSERT INTO "${table}" (resource_id, fence, lock, expires_at, endings) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (resource_id) DO UPDATE SET
       fence = excluded.fence, lock = excluded.lock,
       expires_at = excluded.expires_at, endings = excluded.endings`,
  );
  const selectLive = db.prepare<[string, number], { lock: string }>(
    `SELECT lock FROM "${table}" WHERE resource_id = ? AND expires_at > ?`,
  );
  const selectManyLive = db.prepare<[string, number], { lock: string }>(
    `SELECT lock FROM "${table}"
     WHERE resource_id IN (SELECT value FROM json_each(?)) AND expires_at > ?`,
  );
  const selectAllLive = db.prepare<[number], { lock: string }>(
    `SELECT lock FROM "${table}" WHERE expires_at > ? ORDER BY resource_id`,
  );

  const read = (resourceId: string): ResourceRecord | null => {
    const row = selectRecord.get(resourceId);
    if (!row) return null;
    return {
      resourceId,
      fence: row.fence,
      lock: row.lock === null ? null : (JSON.parse(row.lock) as StoredLock),
      endings: JSON.parse(row.endings) as RememberedEnding[],
    };
  };

  const write = (record: ResourceRecord): void => {
    upsertRecord.run(
      record.resourceId,
      record.fence,
      record.lock === null ? null : JSON.stringify(record.lock),
      record.lock?.expiresAt ?? null,
      JSON.stringify(record.endings),
    );
  };

  // BEGIN IMMEDIATE takes the write lock before the read, so no other process can change the
  // row between the read and the write: read-then-write is safe only inside it.
  const inTransaction = db.transaction(
    (resourceId: string, rule: (record: ResourceRecord | null) => RuleOutcome<unknown>) => {
      const outcome = rule(read(resourceId));
      if (outcome.next) write(outcome.next);
      return outcome.result;
    },
  );
  const atomically = <Result>(
    resourceId: string,
    rule: (record: ResourceRecord | null) => RuleOutcome<Result>,
  ): Result => inTransaction.immediate(resourceId, rule) as Result;

  const parseLock = (json: string): StoredLock => JSON.parse(json) as StoredLock;

  return {
    async acquire(input) {
      const result = atomically(input.resourceId, (record) => applyAcquire(record, input));
      return { ...result, now: input.now };
    },
    async release(input) {
      const result = atomically(input.resourceId, (record) => applyRelease(record, input));
      return { ...result, now: input.now };
    },
    async takeOver(input) {
      const result = atomically(input.resourceId, (record) => applyTakeOver(record, input));
      return { ...result, now: input.now };
    },
    async check(input) {
      return { ...applyCheck(read(input.resourceId), input), now: input.now };
    },
    async get(resourceId, { now }) {
      const row = selectLive.get(resourceId, now);
      if (!row) return null;
      const lock = parseLock(row.lock);
      return isLive(lock, now) ? lock : null;
    },
    async getMany(resourceIds, { now }) {
      const found = new Map<string, StoredLock>();
      if (resourceIds.length === 0) return found;
      for (const row of selectManyLive.all(JSON.stringify(resourceIds), now)) {
        const lock = parseLock(row.lock);
        found.set(lock.resourceId, lock);
      }
      return found;
    },
    async list({ now }) {
      return selectAllLive.all(now).map((row) => parseLock(row.lock));
    },
    async forceRelease(resourceId, { now }) {
      return atomically(resourceId, (record) => applyForceRelease(record, now));
    },
    async close() {
      if (ownsDatabase && db.open) db.close();
    },
  };
}

function openDatabase(options: SqliteLockStoreOptions): {
  db: Database.Database;
  ownsDatabase: boolean;
} {
  const given = (options ?? {}) as { filename?: unknown; database?: unknown };
  if (given.filename !== undefined && given.database !== undefined) {
    throw new Error('[page-lock] [sqlite] Give either option "filename" or "database", not both');
  }
  if (given.database !== undefined) {
    const database = given.database as Partial<Database.Database> | null;
    if (typeof database?.prepare !== 'function' || typeof database.transaction !== 'function') {
      throw new Error('[page-lock] [sqlite] Option "database" must be a better-sqlite3 Database');
    }
    if (!database.open) throw new Error('[page-lock] [sqlite] Option "database" is closed');
    return { db: database as Database.Database, ownsDatabase: false };
  }
  if (given.filename === undefined) {
    throw new Error('[page-lock] [sqlite] Missing option "filename" or "database"');
  }
  if (typeof given.filename !== 'string' || given.filename === '') {
    throw new Error('[page-lock] [sqlite] Option "filename" must be a non-empty path');
  }
  const db = new Database(given.filename, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  } catch (error) {
    db.close();
    throw error;
  }
  return { db, ownsDatabase: true };
}
