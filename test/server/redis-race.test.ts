import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { runRace } from '../race/run-race';

const url = process.env.PAGE_LOCK_REDIS_URL;

if (!url) {
  it.skip('Redis race: set PAGE_LOCK_REDIS_URL=redis://127.0.0.1:6379 to run it');
}

describe.skipIf(!url)('Redis under 8 processes racing on one server', () => {
  const prefixes: string[] = [];
  const admin = new Redis(url ?? 'redis://127.0.0.1:6379', { lazyConnect: true });

  const keysUnder = async (prefix: string): Promise<string[]> => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  };

  afterAll(async () => {
    for (const prefix of prefixes) {
      const keys = await keysUnder(prefix);
      if (keys.length > 0) await admin.del(...keys);
    }
    await admin.quit();
  });

  /** One race on a prefix of its own; the store decides by Redis' clock (its default). */
  const race = async (label: string, clockSkewMs: number) => {
    const prefix = `page-lock-race:${randomBytes(6).toString('hex')}:`;
    prefixes.push(prefix);
    const audit = await runRace({
      kind: 'redis',
      connection: JSON.stringify({ url, prefix }),
      workers: 8,
      operationsPerWorker: 600,
      resources: 3,
      ttl: 40,
      clockSkewMs,
    });
    const { problems, ...counts } = audit;
    console.log(`[redis race${label}]`, JSON.stringify(counts));
    expect(problems.slice(0, 10)).toEqual([]);
    expect(audit.overlaps).toBe(0);
    expect(audit.fenceViolations).toBe(0);
    expect(audit.grants).toBeGreaterThan(0);
    expect(audit.handovers.afterRelease).toBeGreaterThan(0);
    expect(audit.handovers.afterExpiry).toBeGreaterThan(0);
    expect(audit.handovers.takeover).toBeGreaterThan(0);
    expect(audit.operations).toBeGreaterThan(4_000);
    // The line raced too: no grant to a departed waiter, hand-overs to the waiter named, the
    // page passed in the order of asking.
    expect(audit.departedGrants).toBe(0);
    expect(audit.wrongHandOvers).toBe(0);
    expect(audit.orderViolations).toBe(0);
    expect(audit.line.queued).toBeGreaterThan(0);
    expect(audit.line.passed).toBeGreaterThan(0);
    expect(audit.line.handedOver).toBeGreaterThan(0);
    expect(audit.line.departed).toBeGreaterThan(0);
    // Per resource raced, a state hash and a fence counter, however many grants.
    expect((await keysUnder(prefix)).sort()).toEqual(
      [0, 1, 2].flatMap((i) => [
        `${prefix}{race:page/${i}}:fence`,
        `${prefix}{race:page/${i}}:state`,
      ]),
    );
  };

  it('never grants overlapping leases, and every grant gets a new, larger fence', async () => {
    await race('', 0);
  }, 60_000);

  it('keeps both with the workers’ clocks 300 ms apart (±150 ms), judged by Redis’ own clock', async () => {
    await race(' with ±150 ms skew', 150);
  }, 60_000);
});
