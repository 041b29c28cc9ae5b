import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { runRace } from '../race/run-race';

const url = process.env.PAGE_LOCK_REDIS_URL;

if (!url) {
  it.skip('Redis race: set PAGE_LOCK_REDIS_URL=redis://127.0.0.1:6379 to run it');
}

describe.skipIf(!url)('Redis under 8 processes racing on one server', () => {
  const prefix = `page-lock-race:${randomBytes(6).toString('hex')}:`;
  const admin = new Redis(url ?? 'redis://127.0.0.1:6379', { lazyConnect: true });

  const keysUnderPrefix = async (): Promise<string[]> => {
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
    const keys = await keysUnderPrefix();
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  it('never grants overlapping leases, and every grant gets a new, larger fence', async () => {
    const audit = await runRace({
      kind: 'redis',
      connection: JSON.stringify({ url, prefix }),
      workers: 8,
      operationsPerWorker: 600,
      resources: 3,
      ttl: 40,
    });
    const { problems, ...counts } = audit;
    console.log('[redis race]', JSON.stringify(counts));
    expect(problems.slice(0, 10)).toEqual([]);
    expect(audit.overlaps).toBe(0);
    expect(audit.fenceViolations).toBe(0);
    expect(audit.grants).toBeGreaterThan(0);
    expect(audit.operations).toBeGreaterThan(4_000);
    // Per resource raced, a state hash and a fence counter, however many grants.
    expect((await keysUnderPrefix()).sort()).toEqual(
      [0, 1, 2].flatMap((i) => [
        `${prefix}{race:page/${i}}:fence`,
        `${prefix}{race:page/${i}}:state`,
      ]),
    );
  }, 60_000);
});
