import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteLockStore } from '../../server-adapter/sqlite';
import { expectLineKept } from '../race/expect-line';
import { runRace } from '../race/run-race';

describe('SQLite under 8 processes racing on one file', () => {
  let dir: string;
  let filename: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'page-lock-sqlite-race-'));
    filename = join(dir, 'locks.db');
    // Create the file, WAL mode and table once, so the workers race on locks, not on DDL.
    await createSqliteLockStore({ filename }).close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('never grants overlapping leases, and every grant gets a new, larger fence', async () => {
    const audit = await runRace({
      kind: 'sqlite',
      connection: filename,
      workers: 8,
      operationsPerWorker: 700,
      resources: 3,
      ttl: 40,
    });
    const { problems, ...counts } = audit;
    console.log('[sqlite race]', JSON.stringify(counts));
    expect(problems.slice(0, 10)).toEqual([]);
    expect(audit.overlaps).toBe(0);
    expect(audit.fenceViolations).toBe(0);
    expect(audit.grants).toBeGreaterThan(0);
    // Leases changed hands every way the protocol allows, or the race proved little.
    expect(audit.handovers.afterRelease).toBeGreaterThan(0);
    expect(audit.handovers.afterExpiry).toBeGreaterThan(0);
    expect(audit.handovers.takeover).toBeGreaterThan(0);
    expect(audit.operations).toBeGreaterThan(4_000);
    expectLineKept(audit);
  }, 60_000);
});
