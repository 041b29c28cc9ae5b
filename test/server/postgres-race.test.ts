import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresLockStore } from '../../server-adapter/postgres';
import { runRace } from '../race/run-race';

const url = process.env.PAGE_LOCK_POSTGRES_URL;

if (!url) {
  it.skip(
    'Postgres race: set PAGE_LOCK_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test to run it',
  );
}

describe.skipIf(!url)('Postgres under 8 processes racing on one database', () => {
  const table = `page_lock_race_${randomBytes(6).toString('hex')}`;
  let admin: pg.Pool;

  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: url, max: 1 });
    // Create the table once, so the workers race on rows, not on DDL.
    await createPostgresLockStore({ pool: admin, table }).migrate();
  });
  afterAll(async () => {
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
  });

  it('never grants overlapping leases, and every grant gets a new, larger fence', async () => {
    const audit = await runRace({
      kind: 'postgres',
      connection: JSON.stringify({ url, table }),
      workers: 8,
      operationsPerWorker: 600,
      resources: 3,
      ttl: 40,
    });
    const { problems, ...counts } = audit;
    console.log('[postgres race]', JSON.stringify(counts));
    expect(problems.slice(0, 10)).toEqual([]);
    expect(audit.overlaps).toBe(0);
    expect(audit.fenceViolations).toBe(0);
    expect(audit.grants).toBeGreaterThan(0);
    expect(audit.operations).toBeGreaterThan(4_000);
    // One row per resource raced, however many grants: nothing piles up.
    const { rows } = await admin.query(`SELECT count(*) AS n FROM ${table}`);
    expect(Number(rows[0].n)).toBe(3);
  }, 60_000);
});
