import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { lockTableSql } from '../../examples/drizzle-store/drizzle-lock-store';
import type { RaceAudit } from '../race/audit';
import { runRace } from '../race/run-race';

const url = process.env.PAGE_LOCK_POSTGRES_URL;

/** What every race must show: no overlap, fences that only grow, and every kind of handover. */
function expectSound(label: string, audit: RaceAudit): void {
  const { problems, ...counts } = audit;
  console.log(`[${label}]`, JSON.stringify(counts));
  expect(problems.slice(0, 10)).toEqual([]);
  expect(audit.overlaps).toBe(0);
  expect(audit.fenceViolations).toBe(0);
  expect(audit.grants).toBeGreaterThan(0);
  expect(audit.handovers.afterRelease).toBeGreaterThan(0);
  expect(audit.handovers.afterExpiry).toBeGreaterThan(0);
  expect(audit.handovers.takeover).toBeGreaterThan(0);
  expect(audit.operations).toBeGreaterThan(4_000);
}

describe('the Drizzle store under 8 processes racing', () => {
  const cleanups: Array<() => void | Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('on one SQLite file: never overlapping leases, every grant a new, larger fence', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'page-lock-drizzle-race-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const filename = join(dir, 'app.db');
    // Create the file, WAL mode and table once, so the workers race on rows, not on DDL.
    const database = new Database(filename);
    database.pragma('journal_mode = WAL');
    database.exec(lockTableSql.sqlite());
    database.close();
    const audit = await runRace({
      kind: 'drizzle-sqlite',
      connection: filename,
      workers: 8,
      operationsPerWorker: 700,
      resources: 3,
      ttl: 40,
    });
    expectSound('drizzle sqlite race', audit);
    const rows = new Database(filename, { readonly: true });
    const { n } = rows.prepare('SELECT count(*) AS n FROM page_lock_record').get() as { n: number };
    rows.close();
    expect(n).toBe(3); // one row per resource raced: nothing piles up
  }, 90_000);

  if (!url) {
    it.skip(
      'on Postgres: set PAGE_LOCK_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test to run it',
    );
  } else {
    it('on one Postgres table: never overlapping leases, every grant a new, larger fence', async () => {
      const table = `page_lock_drizzle_race_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Pool({ connectionString: url, max: 1 });
      cleanups.push(async () => {
        await admin.query(`DROP TABLE IF EXISTS "${table}"`);
        await admin.end();
      });
      await admin.query(lockTableSql.postgres(table));
      const audit = await runRace({
        kind: 'drizzle-postgres',
        connection: JSON.stringify({ url, table }),
        workers: 8,
        operationsPerWorker: 600,
        resources: 3,
        ttl: 40,
      });
      expectSound('drizzle postgres race', audit);
      const { rows } = await admin.query(`SELECT count(*) AS n FROM "${table}"`);
      expect(Number(rows[0].n)).toBe(3);
    }, 90_000);
  }
});
