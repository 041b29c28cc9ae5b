import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresLockStore } from '../../server-adapter/postgres';
import { expectLineKept } from '../race/expect-line';
import { runRace } from '../race/run-race';

const url = process.env.PAGE_LOCK_POSTGRES_URL;

if (!url) {
  it.skip(
    'Postgres race: set PAGE_LOCK_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test to run it',
  );
}

describe.skipIf(!url)('Postgres under 8 processes racing on one database', () => {
  const tables: string[] = [];
  let admin: pg.Pool;

  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: url, max: 1 });
  });
  afterAll(async () => {
    for (const table of tables) await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
  });

  /** One race on a table of its own; the store decides by Postgres' clock (its default). */
  const race = async (label: string, clockSkewMs: number) => {
    const table = `page_lock_race_${randomBytes(6).toString('hex')}`;
    tables.push(table);
    // Create the table once, so the workers race on rows, not on DDL.
    await createPostgresLockStore({ pool: admin, table }).migrate();
    const audit = await runRace({
      kind: 'postgres',
      connection: JSON.stringify({ url, table }),
      workers: 8,
      operationsPerWorker: 600,
      resources: 3,
      ttl: 40,
      clockSkewMs,
    });
    const { problems, ...counts } = audit;
    console.log(`[postgres race${label}]`, JSON.stringify(counts));
    expect(problems.slice(0, 10)).toEqual([]);
    expect(audit.overlaps).toBe(0);
    expect(audit.fenceViolations).toBe(0);
    expect(audit.grants).toBeGreaterThan(0);
    expect(audit.handovers.afterRelease).toBeGreaterThan(0);
    expect(audit.handovers.afterExpiry).toBeGreaterThan(0);
    expect(audit.handovers.takeover).toBeGreaterThan(0);
    expect(audit.operations).toBeGreaterThan(4_000);
    expectLineKept(audit, { handOvers: false });
    // One row per resource raced, however many grants: nothing piles up.
    const { rows } = await admin.query(`SELECT count(*) AS n FROM ${table}`);
    expect(Number(rows[0].n)).toBe(3);
  };

  it('never grants overlapping leases, and every grant gets a new, larger fence', async () => {
    await race('', 0);
  }, 60_000);

  it('keeps both with the workers’ clocks 300 ms apart (±150 ms), judged by Postgres’ own clock', async () => {
    await race(' with ±150 ms skew', 150);
  }, 60_000);
});
