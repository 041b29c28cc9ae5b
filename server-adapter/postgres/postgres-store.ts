import {
  applyAcquire,
  applyAnswer,
  applyAsk,
  applyCheck,
  applyForceRelease,
  applyLeave,
  applyRelease,
  applyTakeOver,
  isLive,
  type RememberedEnding,
  type ResourceRecord,
  type RuleOutcome,
} from '../store/lock-rules';
import type { DecidedAt, LockStore, StoreAcquireInput, StoredLock } from '../store/lock-store';
import { DEFAULT_POSTGRES_TABLE, lockTableDdl, parseTableName } from './postgres-schema';

/** The result of a query, as `pg` gives it. */
export interface PostgresQueryResult {
  rows: Record<string, unknown>[];
  rowCount: number | null;
}

/** A connection checked out of the pool, as `pg`'s `PoolClient` is. */
export interface PostgresLockConnection {
  /** Without values, `text` may hold several statements: then `pg` answers one result each. */
  query(text: string, values?: unknown[]): Promise<PostgresQueryResult | PostgresQueryResult[]>;
  /** Back to the pool; with an error (or `true`) the pool destroys the connection instead. */
  release(error?: Error | boolean): void;
  /** `pg` emits `error` on a connection whose socket dies; the store listens while it holds one. */
  on?(event: 'error', listener: (error: Error) => void): unknown;
  off?(event: 'error', listener: (error: Error) => void): unknown;
}

/** A query as `pg` takes it with a `name`: prepared once per connection, then only executed. */
export interface PostgresNamedQuery {
  name: string;
  text: string;
  values: unknown[];
}

/** What the store needs of a pool: a `pg` `Pool` is one, as are pools with its API. */
export interface PostgresLockPool {
  query(text: string, values?: unknown[]): Promise<PostgresQueryResult>;
  /** Named (prepared) statements; used unless the option `preparedStatements` is false. */
  query(query: PostgresNamedQuery): Promise<PostgresQueryResult>;
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
  /**
   * Which clock decides expiry (DESIGN invariant 6):
   * - `'store'` (default): Postgres' own clock, `clock_timestamp()` read inside the statement
   *   that locks the resource's row (after the lock is taken), and inside every read. Every
   *   server instance sharing this database then decides by one clock, so instances whose
   *   clocks disagree never grant overlapping leases. The `now` each change reports (and the
   *   service answers with) is Postgres' clock; `since`, `acquiredAt` and `expiresAt` are too.
   * - `'service'`: the `now` the lock service passes with every call. Correct only when every
   *   instance's clock agrees, or for a single instance; it is what lets tests (the contract
   *   suite) travel in time.
   */
  clock?: PostgresLockStoreClock;
  /**
   * How long (ms) a change waits for a resource's row while another transaction holds it
   * (default 2000): Postgres' `lock_timeout`, set per transaction. Past it the call fails with a
   * store error (a 500) instead of holding a pooled connection until the pool runs dry.
   */
  lockTimeoutMs?: number;
  /**
   * Whether the refresh and the reads run as named prepared statements (default true): planned
   * once per connection instead of at every call, which is most of a refresh's cost on the
   * server. Set false behind a pooler that cannot keep them, such as PgBouncer in transaction
   * mode before 1.21 (`max_prepared_statements`).
   */
  preparedStatements?: boolean;
}

/**
 * Which clock decides expiry: `'store'` (Postgres' `clock_timestamp()`, read in the statement)
 * or `'service'` (the `now` the lock service passes with every call).
 */
export type PostgresLockStoreClock = 'store' | 'service';

/** How long a change waits for a row another transaction holds before it fails, in ms. */
export const DEFAULT_POSTGRES_LOCK_TIMEOUT_MS = 2_000;

/** Postgres' clock in epoch ms, whole (as the `expires_at` bigint column compares it). */
const STORE_NOW = 'floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

/** A {@link LockStore} in Postgres, plus the migration that creates its table. */
export interface PostgresLockStore extends LockStore {
  /**
   * Creates the table and its index if missing (see {@link lockTableDdl} for the DDL).
   * Idempotent, and safe when several instances run it at once (it holds an advisory lock).
   */
  migrate(): Promise<void>;
}

interface LockRow {
  fence: string | number | null;
  lock: StoredLock | null;
  endings: RememberedEnding[] | null;
  now?: string | number;
}

/**
 * A lock store in Postgres, for several server instances. Every change is one transaction that
 * locks the resource's row (`SELECT … FOR UPDATE`, which also reads Postgres' clock once the lock
 * is taken), applies the shared lock rules of `lock-rules.ts` in TypeScript by that clock and
 * writes the row back, so every store decides exactly alike. A row held by another transaction is
 * waited for at most `lockTimeoutMs`. Reads are single statements. One row per resource, never
 * deleted: the fence lives in it.
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
  const clock = options.clock ?? 'store';
  if (clock !== 'store' && clock !== 'service') {
    throw new Error('[page-lock] [postgres] Option "clock" must be "store" or "service"');
  }
  const byStoreClock = clock === 'store';
  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_POSTGRES_LOCK_TIMEOUT_MS;
  if (!Number.isSafeInteger(lockTimeoutMs) || lockTimeoutMs <= 0) {
    throw new Error(
      '[page-lock] [postgres] Option "lockTimeoutMs" must be a positive whole number of ms',
    );
  }

  // The clock is read where the rules need it: in the statement that locks the row, after the
  // lock (the outer row is projected once the CTE's LockRows has it), so a call that waited for
  // another transaction decides by the time it got the row, never by the time it started
  // waiting. The LEFT JOIN answers one row (with the clock) when the resource has none yet.
  // Reads compute the clock once (a MATERIALIZED CTE) and filter by it. By the service's clock
  // the same statements run with the given `now` as a parameter instead.
  const nowSql = (param: string): string => (byStoreClock ? STORE_NOW : `${param}::bigint`);
  const sql = {
    // One simple-protocol query (no parameters, so several statements may share it): BEGIN, a
    // lock_timeout that ends with the transaction, and the statement that locks the row and
    // reads the clock once it has it. The resource id goes in as a quoted literal.
    lockRow: (resourceId: string) =>
      `BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = ${lockTimeoutMs};
             WITH row_lock AS MATERIALIZED (
               SELECT fence, lock, endings FROM ${t} WHERE resource_id = ${quoteLiteral(resourceId)} FOR UPDATE)
             SELECT r.fence, r.lock, r.endings, ${STORE_NOW} AS now
             FROM (SELECT 1) AS one LEFT JOIN row_lock AS r ON true`,
    // The write and COMMIT, again in one simple-protocol query.
    insert: (values: string) =>
      `INSERT INTO ${t} (resource_id, fence, lock, expires_at, endings)
             VALUES ${values} ON CONFLICT (resource_id) DO NOTHING; COMMIT`,
    update: ([id, fence, lock, expiresAt, endings]: string[]) =>
      `UPDATE ${t} SET fence = ${fence}, lock = ${lock}, expires_at = ${expiresAt},
             endings = ${endings} WHERE resource_id = ${id}; COMMIT`,
    /**
     * A refresh of a live lease by its holder, in one statement (one round trip): the row is
     * locked only when the token and the holder match (waiting at most lockTimeoutMs, set for
     * this statement's own transaction), the clock is read once the lock is taken, and the lease
     * moves only while it is live by that clock. The lock keeps its line (`queue`), unless a
     * waiter in it departed by that clock: the rules drop it first. No row back: not that case;
     * the rules decide.
     * $1 id, $2 token, $3 holder id, $4 holder JSON, $5 ttl (store clock) or the new expiresAt
     * as JSON (service clock), $6 the service's now, $7 the new expires_at column.
     */
    refresh: `WITH settings AS MATERIALIZED (
               SELECT set_config('lock_timeout', '${lockTimeoutMs}', true) AS lock_timeout),
             held AS MATERIALIZED (
               SELECT t.resource_id FROM ${t} AS t, settings
               WHERE t.resource_id = $1 AND t.lock->>'token' = $2 AND t.lock->'holder'->>'id' = $3
               FOR UPDATE OF t),
             clock AS MATERIALIZED (
               SELECT ${byStoreClock ? STORE_NOW : '$6::float8'} AS now FROM held)
             UPDATE ${t} AS t SET
               lock = jsonb_set(jsonb_set(t.lock, '{holder}', $4::jsonb), '{expiresAt}',
                 ${byStoreClock ? 'to_jsonb(clock.now + $5::bigint)' : '$5::jsonb'}),
               expires_at = ${byStoreClock ? 'clock.now + $5::bigint' : '$7::bigint'}
             FROM clock
             WHERE t.resource_id = $1 AND t.lock->>'token' = $2 AND t.lock->'holder'->>'id' = $3
               AND (t.lock->>'expiresAt')::float8 > clock.now
               AND NOT EXISTS (
                 SELECT 1 FROM jsonb_array_elements(coalesce(t.lock->'queue', '[]'::jsonb)) AS w
                 WHERE (w->>'expiresAt')::float8 <= clock.now)
             RETURNING t.lock, clock.now`,
    selectRecord: `SELECT r.fence, r.lock, r.endings, ${STORE_NOW} AS now
             FROM (SELECT 1) AS one LEFT JOIN ${t} AS r ON r.resource_id = $1`,
    selectLive: `WITH clock AS MATERIALIZED (SELECT ${nowSql('$2')} AS now)
             SELECT t.lock, clock.now FROM ${t} AS t, clock
             WHERE t.resource_id = $1 AND t.expires_at > clock.now`,
    selectManyLive: `WITH clock AS MATERIALIZED (SELECT ${nowSql('$2')} AS now)
             SELECT t.lock, clock.now FROM ${t} AS t, clock
             WHERE t.resource_id = ANY($1::text[]) AND t.expires_at > clock.now`,
    selectAllLive: `WITH clock AS MATERIALIZED (SELECT ${nowSql('$1')} AS now)
             SELECT t.lock, clock.now FROM ${t} AS t, clock
             WHERE t.expires_at > clock.now ORDER BY t.resource_id`,
  };

  const recordOf = (resourceId: string, row: Record<string, unknown> | undefined) => {
    if (!row || (row as unknown as LockRow).fence === null) return null;
    const { fence, lock, endings } = row as unknown as LockRow;
    return {
      resourceId,
      fence: Number(fence),
      lock,
      endings: endings ?? [],
    } satisfies ResourceRecord;
  };

  /** A read's clock parameter: none by the store's clock (the SQL reads it), else `now`. */
  const clockParam = (now: number): number[] => (byStoreClock ? [] : [sqlNow(now)]);

  /** The clock a call decides by: Postgres' as the statement read it, or the service's. */
  const decidedNow = (given: number, row: Record<string, unknown> | undefined): number => {
    if (!byStoreClock) return given;
    const now = Number((row as LockRow | undefined)?.now);
    if (!Number.isSafeInteger(now)) {
      throw new Error('[page-lock] [postgres] The clock read from Postgres is not a number of ms');
    }
    return now;
  };

  /** A record as SQL literals: id, fence, lock, expires_at, endings. */
  const rowLiterals = (record: ResourceRecord): string[] => [
    quoteLiteral(record.resourceId),
    integerLiteral(record.fence),
    record.lock === null ? 'NULL' : `${quoteLiteral(JSON.stringify(record.lock))}::jsonb`,
    // A bigint column: a clock or ttl with a fraction of a ms is rounded so that the column
    // never says lapsed when the lock (checked exactly by `isLive`) is live. See `sqlNow`.
    record.lock === null ? 'NULL' : integerLiteral(Math.ceil(record.lock.expiresAt)),
    `${quoteLiteral(JSON.stringify(record.endings))}::jsonb`,
  ];

  /**
   * One transaction in two round trips: BEGIN, lock the row and read the clock (one query);
   * decide with the shared rule; write back and COMMIT (one query; COMMIT alone when nothing
   * changed). A resource without a row gets one only when the rule changes something; if
   * another transaction inserted it meanwhile (the INSERT did nothing, so nothing was written),
   * the call starts again and decides from what that one wrote, under its row lock. Rows are
   * never deleted, so that happens at most once.
   */
  const atomically = <Result>(
    resourceId: string,
    given: number,
    rule: (record: ResourceRecord | null, now: number) => RuleOutcome<Result>,
  ): Promise<DecidedAt<Result>> =>
    withConnection(pool, explain, async (db) => {
      for (let attempt = 0; ; attempt++) {
        const row = lastResult(await db.query(sql.lockRow(resourceId))).rows[0];
        const record = recordOf(resourceId, row);
        const now = decidedNow(given, row);
        const outcome = rule(record, now);
        if (!outcome.next) {
          await db.query('COMMIT');
          return { ...outcome.result, now };
        }
        const values = rowLiterals(outcome.next);
        if (record !== null) {
          await db.query(sql.update(values));
          return { ...outcome.result, now };
        }
        const [inserted] = results(await db.query(sql.insert(`(${values.join(', ')})`)));
        if (inserted?.rowCount === 1) return { ...outcome.result, now };
        if (attempt > 0) {
          throw new Error('[page-lock] [postgres] A new row was neither inserted nor found');
        }
      }
    });

  /**
   * The fast path of a refresh (one statement, see `sql.refresh`): the lock, or null when the
   * token is not the holder's live lease and the full rule path must decide.
   */
  const refreshed = async (
    input: StoreAcquireInput & { token: string },
  ): Promise<DecidedAt<{ outcome: 'refreshed'; lock: StoredLock }> | null> => {
    const holder = JSON.stringify(input.holder);
    const common = [input.resourceId, input.token, input.holder.id, holder];
    let values: unknown[];
    if (byStoreClock) {
      // By Postgres' clock the new expiresAt is computed in SQL, exactly only for a whole ttl.
      if (!Number.isSafeInteger(input.ttl)) return null;
      values = [...common, input.ttl];
    } else {
      const expiresAt = input.now + input.ttl;
      values = [...common, JSON.stringify(expiresAt), input.now, Math.ceil(expiresAt)];
    }
    const row = (await query(sql.refresh, values)).rows[0];
    if (!row) return null;
    const lock = (row as unknown as LockRow).lock as StoredLock;
    return { outcome: 'refreshed', lock, now: decidedNow(input.now, row) };
  };

  const explain = (error: unknown): unknown => explained(error, table.text, lockTimeoutMs);

  const prepared = options.preparedStatements ?? true;
  if (typeof prepared !== 'boolean') {
    throw new Error('[page-lock] [postgres] Option "preparedStatements" must be true or false');
  }
  const names = new Map<string, string>();
  const query = async (text: string, values: unknown[]): Promise<PostgresQueryResult> => {
    try {
      if (!prepared) return await pool.query(text, values);
      let name = names.get(text);
      if (name === undefined) {
        name = statementName(text);
        names.set(text, name);
      }
      return await pool.query({ name, text, values });
    } catch (error) {
      throw explain(error);
    }
  };

  /** The rows' locks that are live by the clock their statement read (or the service's). */
  const liveLocks = (result: PostgresQueryResult, given: number): StoredLock[] =>
    result.rows.flatMap((row) => {
      const { lock } = row as unknown as LockRow;
      return isLive(lock, decidedNow(given, row)) ? [lock] : [];
    });

  return {
    async migrate() {
      await withConnection(pool, explain, async (db) => {
        await db.query('BEGIN');
        // Two instances starting at once would race on CREATE TABLE IF NOT EXISTS.
        await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`page-lock:${table.text}`]);
        await db.query(lockTableDdl(tableText));
        await db.query('COMMIT');
      });
    },
    async acquire(input) {
      // No presented token is ever a passed grant's `''`: that one only the rules may answer.
      if (input.token !== undefined && input.token !== '') {
        const fast = await refreshed({ ...input, token: input.token });
        if (fast) return fast;
      }
      return atomically(input.resourceId, input.now, (record, now) =>
        applyAcquire(record, { ...input, now }),
      );
    },
    async release(input) {
      return atomically(input.resourceId, input.now, (record, now) =>
        applyRelease(record, { ...input, now }),
      );
    },
    async takeOver(input) {
      return atomically(input.resourceId, input.now, (record, now) =>
        applyTakeOver(record, { ...input, now }),
      );
    },
    async check(input) {
      const row = (await query(sql.selectRecord, [input.resourceId])).rows[0];
      const now = decidedNow(input.now, row);
      return { ...applyCheck(recordOf(input.resourceId, row), { ...input, now }), now };
    },
    async get(resourceId, { now }) {
      const result = await query(sql.selectLive, [resourceId, ...clockParam(now)]);
      return liveLocks(result, now)[0] ?? null;
    },
    async getMany(resourceIds, { now }) {
      const result = await query(sql.selectManyLive, [resourceIds, ...clockParam(now)]);
      return new Map(liveLocks(result, now).map((lock) => [lock.resourceId, lock]));
    },
    async list({ now }) {
      return liveLocks(await query(sql.selectAllLive, clockParam(now)), now);
    },
    async forceRelease(resourceId, { now: given, queueGrace }) {
      const { ended } = await atomically(resourceId, given, (record, now) => {
        const { result, next } = applyForceRelease(record, now, queueGrace);
        return { result: { ended: result }, next };
      });
      return ended;
    },
    async ask(input) {
      return atomically(input.resourceId, input.now, (record, now) =>
        applyAsk(record, { ...input, now }),
      );
    },
    async answer(input) {
      return atomically(input.resourceId, input.now, (record, now) =>
        applyAnswer(record, { ...input, now }),
      );
    },
    async leave(input) {
      return atomically(input.resourceId, input.now, (record, now) =>
        applyLeave(record, { ...input, now }),
      );
    },
  };
}

/** The results of a query that may hold several statements, one per statement. */
function results(answer: PostgresQueryResult | PostgresQueryResult[]): PostgresQueryResult[] {
  return Array.isArray(answer) ? answer : [answer];
}

function lastResult(answer: PostgresQueryResult | PostgresQueryResult[]): PostgresQueryResult {
  const all = results(answer);
  const last = all[all.length - 1];
  if (!last) throw new Error('[page-lock] [postgres] A query answered no result');
  return last;
}

/**
 * A string as an SQL literal, for the simple-protocol queries that fold BEGIN and COMMIT into a
 * statement (parameters need the extended protocol, one statement per query): quotes and
 * backslashes doubled, and the `E''` form when a backslash is there, so it reads the same
 * whatever `standard_conforming_strings` says (what `pg`'s own `escapeLiteral` does). A NUL would
 * cut the query short: refused (no store keeps one; the service answers it as bad input).
 */
export function quoteLiteral(text: string): string {
  if (text.includes('\0')) {
    throw new Error('[page-lock] [postgres] A value holds a NUL, which Postgres cannot keep');
  }
  const quoted = `'${text.replace(/'/g, "''")}'`;
  return text.includes('\\') ? ` E${quoted.replace(/\\/g, '\\\\')}` : quoted;
}

function integerLiteral(value: number): string {
  if (!Number.isSafeInteger(value)) {
    throw new Error(`[page-lock] [postgres] ${value} is not a whole number a bigint can keep`);
  }
  return String(value);
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
  explain: (error: unknown) => unknown,
  work: (db: PostgresLockConnection) => Promise<T>,
): Promise<T> {
  let db: PostgresLockConnection;
  try {
    db = await pool.connect();
  } catch (error) {
    throw explain(error);
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
    throw explain(error);
  }
}

/**
 * Errors that have a likely cause, said plainly: "undefined table" (42P01) most likely means
 * `migrate()` never ran; "lock not available" (55P03) is `lock_timeout` running out on a row
 * another transaction holds.
 */
function explained(error: unknown, table: string, lockTimeoutMs: number): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === '42P01') {
    return new Error(
      `[page-lock] [postgres] Table "${table}" does not exist: run store.migrate() once`,
      { cause: error },
    );
  }
  if (code === '55P03') {
    return new Error(
      `[page-lock] [postgres] A resource's row in "${table}" stayed locked by another transaction for more than lockTimeoutMs (${lockTimeoutMs} ms)`,
      { cause: error },
    );
  }
  return error;
}

/**
 * A prepared statement's name, from its text: a connection keeps one plan per name, so stores on
 * other tables, clocks or timeouts (other texts) never share one, and the same text always does.
 */
function statementName(text: string): string {
  // FNV-1a, 32 bits, twice (two seeds): 16 hex digits, far below Postgres' 63-byte names.
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x811c9dc5);
  }
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
  return `page_lock_${hex(a)}${hex(b)}`;
}
