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
import { DEFAULT_POSTGRES_TABLE, lockTableDdl, parseTableName } from './postgres-schema';

/** The result of a query, as `pg` gives it. */
export interface PostgresQueryResult {
  rows: Record<string, unknown>[];
  rowCount: number | null;
}

/** A connection checked out of the pool, as `pg`'s `PoolClient` is. */
export interface PostgresLockConnection {
  query(text: string, values?: unknown[]): Promise<PostgresQueryResult>;
  /** Back to the pool; with an error (or `true`) the pool destroys the connection instead. */
  release(error?: Error | boolean): void;
  /** `pg` emits `error` on a connection whose socket dies; the store listens while it holds one. */
  on?(event: 'error', listener: (error: Error) => void): unknown;
  off?(event: 'error', listener: (error: Error) => void): unknown;
}

/** What the store needs of a pool: a `pg` `Pool` is one, as are pools with its API. */
export interface PostgresLockPool {
  query(text: string, values?: unknown[]): Promise<PostgresQueryResult>;
  connect(): Promise<PostgresLockConnection>;
}

export interface PostgresLockStoreOptions {
  /**
   * A `pg` Pool the application made and owns (the store never ends it). Give it an `error`
   * listener (`pool.on('error', …)`): `pg` emits one when Postgres drops an idle connection.
   */
  pool: PostgresLockPool;
  /** Table name, optionally `schema.table` (default `page_lock`). Plain identifiers only. */
  table?: string;
}

/** A {@link LockStore} in Postgres, plus the migration that creates its table. */
export interface PostgresLockStore extends LockStore {
  /**
   * Creates the table and its index if missing (see {@link lockTableDdl} for the DDL).
   * Idempotent, and safe when several instances run it at once (it holds an advisory lock).
   */
  migrate(): Promise<void>;
}

interface LockRow {
  fence: string | number;
  lock: StoredLock | null;
  endings: RememberedEnding[];
}

/**
 * A lock store in Postgres, for several server instances. Every change is one transaction that
 * locks the resource's row (`SELECT … FOR UPDATE`), applies the shared lock rules of
 * `lock-rules.ts` in TypeScript and writes the row back, so every store decides exactly alike.
 * Reads are single statements. One row per resource, never deleted: the fence lives in it.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createPostgresLockStore } from 'page-lock/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * pool.on('error', (error) => console.error(error));
 * const store = createPostgresLockStore({ pool });
 * await store.migrate();
 * ```
 */
export function createPostgresLockStore(options: PostgresLockStoreOptions): PostgresLockStore {
  const { pool } = options ?? {};
  if (!pool) throw new Error('[page-lock] [postgres] Missing option "pool"');
  if (typeof pool.query !== 'function' || typeof pool.connect !== 'function') {
    throw new Error('[page-lock] [postgres] Option "pool" must be a pg Pool');
  }
  const tableText = options.table ?? DEFAULT_POSTGRES_TABLE;
  const table = parseTableName(tableText);
  const t = table.quoted;

  const sql = {
    selectForUpdate: `SELECT fence, lock, endings FROM ${t} WHERE resource_id = $1 FOR UPDATE`,
    insert: `INSERT INTO ${t} (resource_id, fence, lock, expires_at, endings)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (resource_id) DO NOTHING`,
    update: `UPDATE ${t} SET fence = $2, lock = $3, expires_at = $4, endings = $5
             WHERE resource_id = $1`,
    selectRecord: `SELECT fence, lock, endings FROM ${t} WHERE resource_id = $1`,
    selectLive: `SELECT lock FROM ${t} WHERE resource_id = $1 AND expires_at > $2`,
    selectManyLive: `SELECT lock FROM ${t} WHERE resource_id = ANY($1::text[]) AND expires_at > $2`,
    selectAllLive: `SELECT lock FROM ${t} WHERE expires_at > $1 ORDER BY resource_id`,
  };

  const recordOf = (resourceId: string, row: Record<string, unknown> | undefined) => {
    if (!row) return null;
    const { fence, lock, endings } = row as unknown as LockRow;
    return { resourceId, fence: Number(fence), lock, endings } satisfies ResourceRecord;
  };

  const rowValues = (record: ResourceRecord): unknown[] => [
    record.resourceId,
    record.fence,
    record.lock === null ? null : JSON.stringify(record.lock),
    // A bigint column: a clock or ttl with a fraction of a ms is rounded so that the column
    // never says lapsed when the lock (checked exactly by `isLive`) is live. See `sqlNow`.
    record.lock === null ? null : Math.ceil(record.lock.expiresAt),
    JSON.stringify(record.endings),
  ];

  /**
   * One transaction: lock the row, decide with the shared rule, write back. A resource without
   * a row gets one only when the rule changes something; if another transaction inserted it
   * meanwhile, the row is locked and the rule decides again from what that one wrote.
   */
  const atomically = <Result>(
    resourceId: string,
    rule: (record: ResourceRecord | null) => RuleOutcome<Result>,
  ): Promise<Result> =>
    withConnection(pool, table.text, async (db) => {
      await db.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      const lockRow = async () =>
        recordOf(resourceId, (await db.query(sql.selectForUpdate, [resourceId])).rows[0]);
      let record = await lockRow();
      let outcome = rule(record);
      if (outcome.next && record === null) {
        const inserted = await db.query(sql.insert, rowValues(outcome.next));
        if (inserted.rowCount === 1) {
          await db.query('COMMIT');
          return outcome.result;
        }
        record = await lockRow();
        outcome = rule(record);
      }
      if (outcome.next) await db.query(sql.update, rowValues(outcome.next));
      await db.query('COMMIT');
      return outcome.result;
    });

  const query = async (text: string, values: unknown[]): Promise<PostgresQueryResult> => {
    try {
      return await pool.query(text, values);
    } catch (error) {
      throw explained(error, table.text);
    }
  };

  const liveLocks = (result: PostgresQueryResult, now: number): StoredLock[] =>
    result.rows
      .map((row) => (row as unknown as LockRow).lock)
      .filter((lock): lock is StoredLock => isLive(lock, now));

  return {
    async migrate() {
      await withConnection(pool, table.text, async (db) => {
        await db.query('BEGIN');
        // Two instances starting at once would race on CREATE TABLE IF NOT EXISTS.
        await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`page-lock:${table.text}`]);
        await db.query(lockTableDdl(tableText));
        await db.query('COMMIT');
      });
    },
    async acquire(input) {
      return atomically(input.resourceId, (record) => applyAcquire(record, input));
    },
    async release(input) {
      return atomically(input.resourceId, (record) => applyRelease(record, input));
    },
    async takeOver(input) {
      return atomically(input.resourceId, (record) => applyTakeOver(record, input));
    },
    async check(input) {
      const result = await query(sql.selectRecord, [input.resourceId]);
      return applyCheck(recordOf(input.resourceId, result.rows[0]), input);
    },
    async get(resourceId, { now }) {
      return liveLocks(await query(sql.selectLive, [resourceId, sqlNow(now)]), now)[0] ?? null;
    },
    async getMany(resourceIds, { now }) {
      const locks = liveLocks(await query(sql.selectManyLive, [resourceIds, sqlNow(now)]), now);
      return new Map(locks.map((lock) => [lock.resourceId, lock]));
    },
    async list({ now }) {
      return liveLocks(await query(sql.selectAllLive, [sqlNow(now)]), now);
    },
    async forceRelease(resourceId, { now }) {
      return atomically(resourceId, (record) => applyForceRelease(record, now));
    },
  };
}

/**
 * The service's clock as the bigint `expires_at > $now` filters compare it: rounded down, so the
 * filter keeps every lock that may be live (ceil(expiresAt) > floor(now)) and `isLive` decides.
 */
function sqlNow(now: number): number {
  return Math.floor(now);
}

/**
 * Runs `work` on a connection of its own and gives the connection back on every path. After an
 * error the connection is destroyed rather than reused: it may be dead (terminated, network
 * gone) or stuck in a failed transaction.
 */
async function withConnection<T>(
  pool: PostgresLockPool,
  table: string,
  work: (db: PostgresLockConnection) => Promise<T>,
): Promise<T> {
  let db: PostgresLockConnection;
  try {
    db = await pool.connect();
  } catch (error) {
    throw explained(error, table);
  }
  // A connection that dies while checked out emits `error` (the pool listens only to idle
  // ones); unheard, that would crash the process. The query in flight rejects anyway.
  let died: Error | null = null;
  const onError = (error: Error): void => {
    died = error;
  };
  db.on?.('error', onError);
  try {
    const result = await work(db);
    db.off?.('error', onError);
    db.release(died ?? undefined);
    return result;
  } catch (error) {
    db.off?.('error', onError);
    db.release(error instanceof Error ? error : true);
    throw explained(error, table);
  }
}

/** Postgres' "undefined table" (42P01) most likely means `migrate()` never ran: say so. */
function explained(error: unknown, table: string): unknown {
  if ((error as { code?: unknown } | null)?.code !== '42P01') return error;
  return new Error(
    `[page-lock] [postgres] Table "${table}" does not exist: run store.migrate() once`,
    { cause: error },
  );
}
