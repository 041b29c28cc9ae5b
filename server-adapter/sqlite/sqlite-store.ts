import { mkdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import Database from 'better-sqlite3';
import { LockBusyError } from '../service/errors';
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
import type {
  DecidedAt,
  LockStore,
  StoreAcquireInput,
  StoreAcquireResult,
  StoredLock,
} from '../store/lock-store';
import { checkTableName, DEFAULT_SQLITE_TABLE, lockTableDdl } from './sqlite-schema';

/** How long a call retries, asynchronously, while another connection holds the write lock. */
const DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 5_000;

/**
 * How long one attempt may wait synchronously (SQLite's own busy timeout). better-sqlite3 waits
 * on the event loop's thread, so this bounds every stall; longer waits are asynchronous retries.
 */
const SYNC_BUSY_WAIT_MS = 25;

/** The pause between two attempts grows from the first to the last (each with jitter). */
const FIRST_RETRY_DELAY_MS = 5;
const LAST_RETRY_DELAY_MS = 50;

/** The largest delay a timer takes as it is (a longer one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface CommonOptions {
  /** Table name (default `page_lock`); created if missing, see {@link lockTableDdl}. */
  table?: string;
  /**
   * How long (ms, default 5000) a call keeps retrying while another connection or process holds
   * the file's write lock. Each attempt waits at most 25 ms on the event loop's thread; between
   * attempts the event loop runs. Past it the call fails with `LockBusyError` (code `busy`, a
   * 503 with `Retry-After` at the handler) and nothing is granted. 0: one attempt, no wait.
   */
  busyTimeoutMs?: number;
}

/**
 * Where the SQLite store keeps its rows: a file it opens (and closes), or a better-sqlite3
 * database the application already opened (and closes itself).
 */
export type SqliteLockStoreOptions =
  | (CommonOptions & {
      /**
       * Path of the database file, opened at the store's first call (not when it is created, so
       * a build that loads the module touches no disk), in WAL mode with a 25 ms synchronous
       * busy timeout. Its folder is created if missing.
       */
      filename: string;
      database?: never;
    })
  | (CommonOptions & {
      /**
       * An open better-sqlite3 database. Its settings are left as they are: WAL mode
       * (`database.pragma('journal_mode = WAL')`) is recommended when several processes share
       * the file (without it, reads wait for writers too). The one exception: while one of the
       * store's own statements runs, its `busy_timeout` is lowered to at most 25 ms (never
       * raised) and put back before the call returns, so a lock held elsewhere never stalls the
       * event loop for better-sqlite3's default 5 s; the application's own statements never see
       * the change.
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

type Rule = (record: ResourceRecord | null) => RuleOutcome<unknown>;

/** What the store runs; prepared once the table exists. */
interface Statements {
  read(resourceId: string): ResourceRecord | null;
  /** Runs `rule` on the row in one immediate transaction and writes what it decided. */
  inTransaction(resourceId: string, rule: Rule): unknown;
  /**
   * A refresh of a live lease by its holder as one conditional UPDATE (no transaction, no
   * decoding of the record): the lock it wrote, or null when that is not the case.
   */
  refresh(input: StoreAcquireInput & { token: string }, now: number): StoredLock | null;
  selectLive: Database.Statement<[string, number], { lock: string }>;
  selectManyLive: Database.Statement<[string, number], { lock: string }>;
  selectAllLive: Database.Statement<[number], { lock: string }>;
}

/**
 * The embedded default store, over better-sqlite3: one row per resource. Every change runs in
 * one immediate transaction that reads the row and applies the shared lock rules, so an acquire
 * is atomic even when several processes share the file.
 *
 * better-sqlite3 is synchronous: while another process holds the file's write lock, SQLite's busy
 * wait would stall the whole event loop. So each attempt waits at most 25 ms, and a call that
 * finds the file busy is retried asynchronously (backoff with jitter) for up to `busyTimeoutMs`,
 * then fails with `LockBusyError`; nothing is granted on busy. A retried change is decided at the
 * service's `now` plus the time spent waiting, and answers with that clock. In WAL mode reads
 * need no write lock, so GETs keep being answered meanwhile.
 *
 * Nothing touches the disk until the first call: options are checked at once, but the file (and
 * its folder) is created, and the table set up, by the first operation. So `next build`, which
 * loads route modules, creates no file; a path that cannot be opened fails that first call.
 *
 * @example
 * ```ts
 * const store = createSqliteLockStore({ filename: './data/locks.db' });
 * const service = createLockService({ store });
 * ```
 */
export function createSqliteLockStore(options: SqliteLockStoreOptions): SqliteLockStore {
  const given = (options ?? {}) as { table?: unknown; busyTimeoutMs?: unknown };
  const table = checkTableName(given.table ?? DEFAULT_SQLITE_TABLE);
  const busyTimeoutMs = checkBusyTimeout(given.busyTimeoutMs);
  const syncWaitMs = Math.min(SYNC_BUSY_WAIT_MS, Math.floor(busyTimeoutMs));
  const source = checkSource(options);
  const ownsDatabase = source.filename !== undefined;
  /** The open database: the application's, or ours once the first call opened the file. */
  let db: Database.Database | null = source.database ?? null;
  /** Our own connection's busy timeout, as last set. */
  let ownWaitMs = syncWaitMs;
  let closed = false;
  /** The database, opened (with its folder created) on first use. */
  const database = (): Database.Database => {
    if (closed) {
      throw new Error('[page-lock] [sqlite] This store was closed: the database is not open');
    }
    if (!db) {
      db = openFile(source.filename as string, syncWaitMs);
      ownWaitMs = syncWaitMs;
    }
    return db;
  };

  /**
   * Whether the last change (or read) found the file busy. Then the next ones do not wait on
   * this thread at all (they only look, and retry on a timer): otherwise several calls arriving
   * in one tick, or retries whose timers fall due together, would add their waits up. Reads
   * keep their own note: a read that succeeds says nothing about the write lock.
   */
  const seenBusy = { change: false, read: false };

  /** Runs `run` with the database's synchronous busy wait at most `waitMs`. */
  const waitingAtMost = <Result>(waitMs: number, run: () => Result): Result => {
    const db = database();
    if (ownsDatabase) {
      if (ownWaitMs !== waitMs) {
        db.pragma(`busy_timeout = ${waitMs}`);
        ownWaitMs = waitMs;
      }
      return run();
    }
    // An application's database keeps its own setting, lowered (never raised) only while our
    // statement runs, all of it synchronous, so none of its own statements runs meanwhile.
    const previous = Number(db.pragma('busy_timeout', { simple: true }));
    if (!(previous > waitMs)) return run();
    db.pragma(`busy_timeout = ${waitMs}`);
    try {
      return run();
    } finally {
      db.pragma(`busy_timeout = ${previous}`);
    }
  };

  type Kind = keyof typeof seenBusy;
  /** One attempt: SQLITE_BUSY is noted (and thrown), success clears the note. */
  const attemptOnce = <Result>(kind: Kind, run: () => Result): Result => {
    try {
      const result = waitingAtMost(seenBusy[kind] ? 0 : syncWaitMs, run);
      seenBusy[kind] = false;
      return result;
    } catch (error) {
      if (isBusy(error)) seenBusy[kind] = true;
      throw error;
    }
  };

  const where = isInMemory(source) ? 'an in-memory database' : `"${basename(fileOf(source))}"`;
  /**
   * At the first call: WAL mode and the table. Both need the write lock only the first time (a
   * new file, a missing table); a busy file is retried like any change. Any other failure (not
   * a database, a read-only file) is said plainly, and the next call starts again from the open.
   */
  const setUp = (): Statements => {
    const db = database();
    try {
      if (ownsDatabase) {
        db.pragma('journal_mode = WAL');
        // Synced at checkpoints, not at every commit: what better-sqlite3's build gives WAL files
        // it reopens, here from the first open too. A process crash loses nothing; see README.
        db.pragma('synchronous = NORMAL');
      }
      db.exec(lockTableDdl(table));
      return prepareStatements(db, table);
    } catch (error) {
      if (isBusy(error)) throw error;
      if (ownsDatabase) forgetDatabase();
      throw new Error(
        `[page-lock] [sqlite] Cannot set up table "${table}" in ${where}: ${messageOf(error)}`,
        { cause: error },
      );
    }
  };
  const forgetDatabase = () => {
    if (db?.open) db.close();
    db = null;
  };
  let statements: Statements | null = null;
  const prepared = (): Statements => {
    statements ??= setUp();
    return statements;
  };
  /**
   * Runs `attempt` until SQLite stops answering SQLITE_BUSY: each attempt waits at most
   * `syncWaitMs` on this thread, the pauses between them are timers, and after `busyTimeoutMs`
   * the call fails with {@link LockBusyError}. `attempt` gets how long the call has waited (ms).
   */
  const whileBusy = async <Result>(
    kind: Kind,
    what: string,
    now: number,
    attempt: (run: Statements, waitedMs: number) => Result,
  ): Promise<Result> => {
    const started = performance.now();
    for (let retry = 0; ; retry++) {
      const waitedMs = retry === 0 ? 0 : Math.floor(performance.now() - started);
      try {
        return attemptOnce(kind, () => attempt(prepared(), waitedMs));
      } catch (error) {
        if (!isBusy(error)) throw error;
        const elapsed = performance.now() - started;
        const left = busyTimeoutMs - elapsed;
        if (left <= 0) {
          throw new LockBusyError(
            `[page-lock] [sqlite] ${what}: ${where} (table "${table}") stayed locked by another ` +
              `connection for ${Math.round(elapsed)} ms; ${kind === 'change' ? 'nothing was changed' : 'nothing was read'}. Raise option ` +
              `"busyTimeoutMs" (now ${busyTimeoutMs}) or keep other transactions on the file short`,
            now + Math.floor(elapsed),
          );
        }
        await sleep(Math.min(left, retryDelay(retry)));
      }
    }
  };

  /** A change, decided at the service's clock plus the time it waited for the write lock. */
  const change = async <Result>(
    what: string,
    resourceId: string,
    now: number,
    rule: (record: ResourceRecord | null, now: number) => RuleOutcome<Result>,
  ): Promise<DecidedAt<Result>> =>
    whileBusy('change', what, now, (run, waitedMs) => {
      const decidedAt = now + waitedMs;
      const result = run.inTransaction(resourceId, (record) => rule(record, decidedAt)) as Result;
      return { ...result, now: decidedAt };
    });

  const parseLock = (json: string): StoredLock => JSON.parse(json) as StoredLock;

  return {
    async acquire(input) {
      const { token } = input;
      // No presented token is ever a passed grant's `''`: that one only the rules may answer.
      if (token === undefined || token === '') {
        return change('acquire', input.resourceId, input.now, (record, now) =>
          applyAcquire(record, { ...input, now }),
        );
      }
      // A refresh of a live lease by its holder is one statement; anything else takes the rules.
      return whileBusy('change', 'acquire', input.now, (run, waitedMs) => {
        const now = input.now + waitedMs;
        const lock = run.refresh({ ...input, token }, now);
        if (lock) return { outcome: 'refreshed' as const, lock, now };
        const rule = (record: ResourceRecord | null) => applyAcquire(record, { ...input, now });
        return { ...(run.inTransaction(input.resourceId, rule) as StoreAcquireResult), now };
      });
    },
    async release(input) {
      return change('release', input.resourceId, input.now, (record, now) =>
        applyRelease(record, { ...input, now }),
      );
    },
    async takeOver(input) {
      return change('takeover', input.resourceId, input.now, (record, now) =>
        applyTakeOver(record, { ...input, now }),
      );
    },
    async check(input) {
      // One SELECT: in WAL mode it needs no lock, yet it may meet BUSY elsewhere (a rollback
      // journal, a WAL being recovered), so it retries too, decided like a change.
      return whileBusy('read', 'check', input.now, (run, waitedMs) => {
        const now = input.now + waitedMs;
        return { ...applyCheck(run.read(input.resourceId), { ...input, now }), now };
      });
    },
    // Observations answer for the service's `now` they were given (they return no clock).
    async get(resourceId, { now }) {
      const row = await whileBusy('read', 'get', now, (run) => run.selectLive.get(resourceId, now));
      if (!row) return null;
      const lock = parseLock(row.lock);
      return isLive(lock, now) ? lock : null;
    },
    async getMany(resourceIds, { now }) {
      const found = new Map<string, StoredLock>();
      if (resourceIds.length === 0) return found;
      const rows = await whileBusy('read', 'getMany', now, (run) =>
        run.selectManyLive.all(JSON.stringify(resourceIds), now),
      );
      for (const row of rows) {
        const lock = parseLock(row.lock);
        found.set(lock.resourceId, lock);
      }
      return found;
    },
    async list({ now }) {
      const rows = await whileBusy('read', 'list', now, (run) => run.selectAllLive.all(now));
      return rows.map((row) => parseLock(row.lock));
    },
    async forceRelease(resourceId, { now, queueGrace }) {
      const { ended } = await change('forceRelease', resourceId, now, (record, decidedAt) => {
        const outcome = applyForceRelease(record, decidedAt, queueGrace);
        return { ...outcome, result: { ended: outcome.result } };
      });
      return ended;
    },
    async ask(input) {
      return change('ask', input.resourceId, input.now, (record, now) =>
        applyAsk(record, { ...input, now }),
      );
    },
    async answer(input) {
      return change('answer', input.resourceId, input.now, (record, now) =>
        applyAnswer(record, { ...input, now }),
      );
    },
    async leave(input) {
      return change('leave', input.resourceId, input.now, (record, now) =>
        applyLeave(record, { ...input, now }),
      );
    },
    async close() {
      // A store never used opened nothing, so it has nothing to close.
      closed = true;
      statements = null;
      if (ownsDatabase) forgetDatabase();
    },
  };
}

function prepareStatements(db: Database.Database, table: string): Statements {
  const selectRecord = db.prepare<[string], LockRow>(
    `SELECT fence, lock, endings FROM "${table}" WHERE resource_id = ?`,
  );
  const upsertRecord = db.prepare<[string, number, string | null, number | null, string]>(
    `INSERT INTO "${table}" (resource_id, fence, lock, expires_at, endings) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (resource_id) DO UPDATE SET
       fence = excluded.fence, lock = excluded.lock,
       expires_at = excluded.expires_at, endings = excluded.endings`,
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
  // row between the read and the write: read-then-write is safe only inside it. A BUSY at BEGIN
  // (or at COMMIT) rolls the whole transaction back, so a retry starts again from the read.
  const transaction = db.transaction((resourceId: string, rule: Rule) => {
    const outcome = rule(read(resourceId));
    if (outcome.next) write(outcome.next);
    return outcome.result;
  });

  // The rules' refresh case (`applyAcquire`): the token is the current grant's, its holder is
  // the same user and the lease is live. Same lock (its line too), holder text as given,
  // `expiresAt` moved. A line with a departed waiter is left to the rules, which drop it first.
  const refreshLive = db.prepare<
    [string, string, number, string, number, string, string, number],
    { lock: string }
  >(
    `UPDATE "${table}"
     SET lock = json_set(lock, '$.holder', json(?), '$.expiresAt', json(?)), expires_at = ?
     WHERE resource_id = ? AND expires_at > ?
       AND json_extract(lock, '$.token') = ? AND json_extract(lock, '$.holder.id') = ?
       AND NOT EXISTS (SELECT 1 FROM json_each(lock, '$.queue')
                       WHERE json_extract(value, '$.expiresAt') <= ?)
     RETURNING lock`,
  );

  return {
    read,
    inTransaction: (resourceId, rule) => transaction.immediate(resourceId, rule),
    refresh: (input, now) => {
      const expiresAt = now + input.ttl;
      const row = refreshLive.get(
        JSON.stringify(input.holder),
        JSON.stringify(expiresAt),
        expiresAt,
        input.resourceId,
        now,
        input.token,
        input.holder.id,
        now,
      );
      return row ? (JSON.parse(row.lock) as StoredLock) : null;
    },
    selectLive: db.prepare<[string, number], { lock: string }>(
      `SELECT lock FROM "${table}" WHERE resource_id = ? AND expires_at > ?`,
    ),
    selectManyLive: db.prepare<[string, number], { lock: string }>(
      `SELECT lock FROM "${table}"
       WHERE resource_id IN (SELECT value FROM json_each(?)) AND expires_at > ?`,
    ),
    selectAllLive: db.prepare<[number], { lock: string }>(
      `SELECT lock FROM "${table}" WHERE expires_at > ? ORDER BY resource_id`,
    ),
  };
}

/** better-sqlite3 names SQLite's extended codes: SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT, … */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_'));
}

function checkBusyTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_SQLITE_BUSY_TIMEOUT_MS;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) {
    throw new Error(
      `[page-lock] [sqlite] Option "busyTimeoutMs" must be a number of ms from 0 to ${MAX_TIMER_MS}`,
    );
  }
  return value;
}

/** Exponential backoff with jitter: a half to a whole of 5, 10, 20, 40, then 50 ms. */
function retryDelay(retry: number): number {
  const ceiling = Math.min(LAST_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** retry);
  return ceiling * (0.5 + Math.random() / 2);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Where the rows live, as checked at creation: a file to open later, or an open database. */
type Source =
  | { filename: string; database?: undefined }
  | { filename?: undefined; database: Database.Database };

function checkSource(options: SqliteLockStoreOptions): Source {
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
    return { database: database as Database.Database };
  }
  if (given.filename === undefined) {
    throw new Error('[page-lock] [sqlite] Missing option "filename" or "database"');
  }
  if (typeof given.filename !== 'string' || given.filename === '') {
    throw new Error('[page-lock] [sqlite] Option "filename" must be a non-empty path');
  }
  return { filename: given.filename };
}

const isInMemory = (source: Source): boolean =>
  source.database ? source.database.memory : source.filename === ':memory:';

const fileOf = (source: Source): string => source.database?.name ?? source.filename ?? '';

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/**
 * Opens the store's own file, creating its folder first (`mkdir -p`). The synchronous busy wait
 * is short; WAL mode is set with the table, see `setUp`.
 */
function openFile(filename: string, syncWaitMs: number): Database.Database {
  try {
    if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
    return new Database(filename, { timeout: syncWaitMs });
  } catch (error) {
    throw new Error(
      `[page-lock] [sqlite] Cannot open the lock database "${filename}" (option "filename"): ` +
        messageOf(error),
      { cause: error },
    );
  }
}
