import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LockStoreError } from '../../server-adapter/service/errors';
import { createLockService } from '../../server-adapter/service/lock-service';
import { createSqliteLockStore } from '../../server-adapter/sqlite';
import { runLockStoreContract } from '../contract';

const testApi = { describe, it, expect, beforeEach, afterEach };

/**
 * Counts rows through a connection of its own: what is on disk, not what the store says. No file
 * or no table yet (the store opens both at its first call) is no rows.
 */
function countRows(filename: string, table = 'page_lock'): number {
  if (!existsSync(filename)) return 0;
  const db = new Database(filename, { readonly: true });
  try {
    const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`);
    if (!exists.get(table)) return 0;
    return (db.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

runLockStoreContract(
  'sqlite file',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'page-lock-sqlite-'));
    const filename = join(dir, 'locks.db');
    return {
      store: createSqliteLockStore({ filename }),
      countRecords: async () => countRows(filename),
      reopen: async () => createSqliteLockStore({ filename }),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  testApi,
);

runLockStoreContract(
  'sqlite database given by the application, own table',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'page-lock-sqlite-'));
    const database = new Database(join(dir, 'app.db'));
    const table = 'editor_locks';
    return {
      store: createSqliteLockStore({ database, table }),
      countRecords: async () => countRows(join(dir, 'app.db'), table),
      reopen: async () => createSqliteLockStore({ database, table }),
      cleanup: async () => {
        database.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  testApi,
);

describe('createSqliteLockStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'page-lock-sqlite-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('says which option is missing', () => {
    // @ts-expect-error: neither option given
    expect(() => createSqliteLockStore({})).toThrow(
      '[page-lock] [sqlite] Missing option "filename" or "database"',
    );
    // @ts-expect-error: no options at all
    expect(() => createSqliteLockStore()).toThrow('Missing option "filename" or "database"');
  });

  it('refuses bad options with a clear message', () => {
    const database = new Database(':memory:');
    // @ts-expect-error: both options given
    expect(() => createSqliteLockStore({ filename: 'x.db', database })).toThrow(
      '[page-lock] [sqlite] Give either option "filename" or "database", not both',
    );
    // @ts-expect-error: not a database
    expect(() => createSqliteLockStore({ database: {} })).toThrow(
      '[page-lock] [sqlite] Option "database" must be a better-sqlite3 Database',
    );
    expect(() => createSqliteLockStore({ filename: '' })).toThrow(
      '[page-lock] [sqlite] Option "filename" must be a non-empty path',
    );
    expect(() => createSqliteLockStore({ database, table: 'locks; DROP TABLE x' })).toThrow(
      '[page-lock] [sqlite] Option "table" must be a plain SQL identifier',
    );
    database.close();
    expect(() => createSqliteLockStore({ database })).toThrow(
      '[page-lock] [sqlite] Option "database" is closed',
    );
  });

  it('refuses a busyTimeoutMs that is not a number of ms', () => {
    const filename = join(dir, 'locks.db');
    for (const busyTimeoutMs of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5000', null, 2 ** 31]) {
      // @ts-expect-error: some of these are not even numbers
      expect(() => createSqliteLockStore({ filename, busyTimeoutMs })).toThrow(
        '[page-lock] [sqlite] Option "busyTimeoutMs" must be a number of ms from 0 to 2147483647',
      );
    }
    expect(existsSync(filename)).toBe(false); // refused before anything was opened
  });

  it('accepts busyTimeoutMs 0, and decides a change nobody kept waiting at the service’s clock', async () => {
    const filename = join(dir, 'locks.db');
    const store = createSqliteLockStore({ filename, busyTimeoutMs: 0 });
    const acquired = await store.acquire({
      resourceId: 'page:1',
      holder: { id: 'alice', name: 'Alice' },
      clientId: 'tab-1',
      newToken: 'token-1',
      now: 1_000,
      ttl: 60_000,
    });
    // Not busy: decided at exactly the service's clock.
    expect(acquired).toMatchObject({ outcome: 'granted', now: 1_000, lock: { acquiredAt: 1_000 } });
    await store.close();
  });

  const acquireInput = {
    resourceId: 'page:1',
    holder: { id: 'alice', name: 'Alice' },
    clientId: 'tab-1',
    newToken: 'token-1',
    now: 1_000,
    ttl: 60_000,
  };

  it('touches nothing on disk until its first call, which creates the folder and the file', async () => {
    const folder = join(dir, 'data', 'nested');
    const filename = join(folder, 'locks.db');
    const store = createSqliteLockStore({ filename });
    // What `next build` does to a route module: load it, build the store, never call it.
    expect(readdirSync(dir)).toEqual([]);

    expect(await store.get('page:1', { now: 1_000 })).toBeNull(); // a read opens it too
    expect(existsSync(filename)).toBe(true);
    expect(await store.acquire(acquireInput)).toMatchObject({ outcome: 'granted' });
    await store.close();
    expect(countRows(filename)).toBe(1);
  });

  it('opens a relative path against the working folder, creating its folder there', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const store = createSqliteLockStore({ filename: 'data/locks.db' });
      expect(existsSync(join(dir, 'data'))).toBe(false);
      await store.acquire(acquireInput);
      await store.close();
    } finally {
      process.chdir(cwd);
    }
    expect(countRows(join(dir, 'data/locks.db'))).toBe(1);
  });

  it('fails at the first call on a path it cannot open, clearly, and a LockStoreError at the service', async () => {
    writeFileSync(join(dir, 'a-file'), 'not a folder');
    const filename = join(dir, 'a-file', 'locks.db');
    const store = createSqliteLockStore({ filename }); // nothing is opened yet, so nothing fails
    await expect(store.acquire(acquireInput)).rejects.toThrow(
      `[page-lock] [sqlite] Cannot open the lock database "${filename}" (option "filename"): `,
    );

    const service = createLockService({ store });
    const failure = await service
      .acquire('page:1', { id: 'alice', name: 'Alice' }, { clientId: 'tab-1' })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LockStoreError);
    expect((failure as LockStoreError).code).toBe('store-error');
    expect(((failure as LockStoreError).cause as Error).message).toMatch(
      /^\[page-lock\] \[sqlite\] Cannot open the lock database ".*a-file.*: E[A-Z]+: /,
    );
    await store.close();
  });

  it('says so when the file is not a database, and tries again at the next call', async () => {
    const filename = join(dir, 'locks.db');
    writeFileSync(filename, 'This is not an SQLite file, but it is long enough to be read as one.');
    const store = createSqliteLockStore({ filename });
    await expect(store.get('page:1', { now: 1_000 })).rejects.toThrow(
      '[page-lock] [sqlite] Cannot set up table "page_lock" in "locks.db": file is not a database',
    );
    rmSync(filename);
    // The failed open was not kept: the next call opens the (now new) file and works.
    expect(await store.acquire(acquireInput)).toMatchObject({ outcome: 'granted' });
    await store.close();
  });

  it('opens its file in WAL mode, synced at checkpoints, and creates the table', async () => {
    const filename = join(dir, 'locks.db');
    const store = createSqliteLockStore({ filename });
    const pragma = vi.spyOn(Database.prototype, 'pragma');
    await store.list({ now: 0 });
    // Per connection, so only the store's own calls tell it.
    expect(pragma).toHaveBeenCalledWith('synchronous = NORMAL');
    pragma.mockRestore();
    const db = new Database(filename, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const columns = db.prepare(`SELECT name FROM pragma_table_info('page_lock')`).all();
    expect(columns.map((c) => (c as { name: string }).name)).toEqual([
      'resource_id',
      'fence',
      'lock',
      'expires_at',
      'endings',
    ]);
    db.close();
    await store.close();
  });

  it('drops the expires_at index 0.1.0 made, keeping the rows it finds', async () => {
    const filename = join(dir, 'locks.db');
    const old = new Database(filename);
    old.exec(`
      CREATE TABLE page_lock (resource_id TEXT PRIMARY KEY NOT NULL, fence INTEGER NOT NULL,
        lock TEXT, expires_at INTEGER, endings TEXT NOT NULL DEFAULT '[]');
      CREATE INDEX page_lock_expires_at ON page_lock (expires_at);
      INSERT INTO page_lock VALUES ('page:9', 4, NULL, NULL, '[]');`);
    old.close();
    const indexes = () => {
      const db = new Database(filename, { readonly: true });
      const names = db
        .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'page_lock'`)
        .all()
        .map((row) => (row as { name: string }).name);
      db.close();
      return names;
    };
    expect(indexes()).toContain('page_lock_expires_at');

    const store = createSqliteLockStore({ filename });
    const granted = await store.acquire({ ...acquireInput, resourceId: 'page:9' });
    // The fence went on from the row that was there.
    expect(granted).toMatchObject({ outcome: 'granted', lock: { fence: 5 } });
    expect(indexes()).not.toContain('page_lock_expires_at');
    await store.close();
  });

  it('closes a database it opened, and leaves the application’s own open', async () => {
    const database = new Database(join(dir, 'app.db'));
    await createSqliteLockStore({ database }).close();
    expect(database.open).toBe(true);
    database.close();

    const filename = join(dir, 'locks.db');
    const store = createSqliteLockStore({ filename });
    await store.get('page:1', { now: 0 });
    await store.close();
    await expect(store.get('page:1', { now: 0 })).rejects.toThrow(
      '[page-lock] [sqlite] This store was closed: the database is not open',
    );

    // A store closed before its first call opened nothing, and opens nothing afterwards.
    const unused = createSqliteLockStore({ filename: join(dir, 'unused', 'locks.db') });
    await unused.close();
    await expect(unused.acquire(acquireInput)).rejects.toThrow('This store was closed');
    expect(existsSync(join(dir, 'unused'))).toBe(false);
  });

  it('keeps the row (and so the fence) after a release', async () => {
    const filename = join(dir, 'locks.db');
    const store = createSqliteLockStore({ filename });
    const acquired = await store.acquire({
      resourceId: 'page:1',
      holder: { id: 'alice', name: 'Alice' },
      clientId: 'tab-1',
      newToken: 'token-1',
      now: 1_000,
      ttl: 60_000,
    });
    await store.release({ resourceId: 'page:1', token: 'token-1', now: 2_000 });
    await store.close();
    const db = new Database(filename, { readonly: true });
    const row = db.prepare('SELECT fence, lock, expires_at FROM page_lock').get();
    db.close();
    expect(acquired.outcome).toBe('granted');
    expect(row).toEqual({ fence: 1, lock: null, expires_at: null });
  });
});
