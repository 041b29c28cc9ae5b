import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLockHandler, createLockService, LockStoreError } from '../../server-adapter';
import {
  createRecordLockStore,
  type LockRecord,
  type RecordLockStoreOptions,
} from '../../server-adapter/store/record-store';
import type { LockUser } from '../../src/protocol/protocol';
import { runLockStoreContract } from '../contract';

/**
 * The reference backend: a Map of JSON text, as a database column would hold it, behind async
 * functions that yield between steps, so concurrent calls interleave as they do over a network.
 */
function mapRecords(rows = new Map<string, string>()) {
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
  const records: Required<Pick<RecordLockStoreOptions, 'read' | 'compareAndSet' | 'list'>> = {
    async read(resourceId) {
      await tick();
      const row = rows.get(resourceId);
      return row === undefined ? null : (JSON.parse(row) as LockRecord);
    },
    async compareAndSet(resourceId, expectedVersion, next) {
      await tick();
      const row = rows.get(resourceId);
      const version = row === undefined ? null : (JSON.parse(row) as LockRecord).version;
      if (version !== expectedVersion) return false;
      rows.set(resourceId, JSON.stringify(next));
      return true;
    },
    async list() {
      await tick();
      return [...rows.values()].map((row) => JSON.parse(row) as LockRecord);
    },
  };
  return { rows, records };
}

runLockStoreContract(
  'record store over a Map',
  () => {
    const { rows, records } = mapRecords();
    return {
      store: createRecordLockStore(records),
      countRecords: async () => rows.size,
      reopen: async () => createRecordLockStore(mapRecords(rows).records),
    };
  },
  { describe, it, expect, beforeEach, afterEach },
);

const alice: LockUser = { id: 'alice', name: 'Alice' };
const bob: LockUser = { id: 'bob', name: 'Bob' };
const acquireInput = (holder: LockUser, now: number, newToken: string) => ({
  resourceId: 'page:1',
  holder,
  clientId: `tab-${holder.id}`,
  newToken,
  now,
  ttl: 30_000,
});

describe('createRecordLockStore', () => {
  it('says which option is missing or wrong', () => {
    const { records } = mapRecords();
    // @ts-expect-error: no options at all
    expect(() => createRecordLockStore()).toThrow(
      '[page-lock] [record-store] Missing option "read"',
    );
    // @ts-expect-error: no compareAndSet
    expect(() => createRecordLockStore({ read: records.read })).toThrow(
      '[page-lock] [record-store] Missing option "compareAndSet"',
    );
    // @ts-expect-error: not a function
    expect(() => createRecordLockStore({ ...records, list: [] })).toThrow(
      '[page-lock] [record-store] Option "list" must be a function',
    );
    for (const maxAttempts of [0, -1, 1.5, Number.NaN]) {
      expect(() => createRecordLockStore({ ...records, maxAttempts })).toThrow(
        '[page-lock] [record-store] Option "maxAttempts" must be a whole number of at least 1',
      );
    }
  });

  it('retries a lost compare-and-set and decides again on the record the other writer left', async () => {
    const { rows, records } = mapRecords();
    const rival = createRecordLockStore(records);
    let reads = 0;
    let writes = 0;
    const store = createRecordLockStore({
      ...records,
      read: (resourceId) => {
        reads++;
        return records.read(resourceId);
      },
      async compareAndSet(resourceId, expectedVersion, next) {
        // Another server gets in between this store's read and its write.
        if (writes++ === 0) await rival.acquire(acquireInput(bob, 1_000, 'token-bob'));
        return records.compareAndSet(resourceId, expectedVersion, next);
      },
    });

    const answer = await store.acquire(acquireInput(alice, 1_000, 'token-alice'));
    // Alice's first try would have granted the free resource. It lost, read again and found
    // Bob's grant: locked, and nothing left to write.
    expect([reads, writes]).toEqual([2, 1]);
    expect(answer).toMatchObject({
      outcome: 'locked',
      lock: { holder: bob, fence: 1 },
      now: 1_000,
    });
    const stored = JSON.parse(rows.get('page:1') as string) as LockRecord;
    expect(stored).toMatchObject({ version: 1, fence: 1, lock: { token: 'token-bob' } });
  });

  it('retries when the version moved on without a change of holder, and then writes', async () => {
    const { rows, records } = mapRecords();
    await createRecordLockStore(records).acquire(acquireInput(alice, 1_000, 'token-1'));
    let lost = 0;
    const store = createRecordLockStore({
      ...records,
      async compareAndSet(resourceId, expectedVersion, next) {
        if (lost++ < 3) {
          // Another instance wrote meanwhile (same lock): only the version grew.
          const current = JSON.parse(rows.get(resourceId) as string) as LockRecord;
          rows.set(resourceId, JSON.stringify({ ...current, version: current.version + 1 }));
        }
        return records.compareAndSet(resourceId, expectedVersion, next);
      },
    });
    const refreshed = await store.acquire({ ...acquireInput(alice, 2_000, 'x'), token: 'token-1' });
    expect(refreshed).toMatchObject({ outcome: 'refreshed', lock: { expiresAt: 32_000 } });
    expect(JSON.parse(rows.get('page:1') as string)).toMatchObject({ version: 5, fence: 1 });
  });

  it('fails with a store error (500) and grants nothing when compareAndSet always loses', async () => {
    const { rows, records } = mapRecords();
    let attempts = 0;
    const store = createRecordLockStore({
      ...records,
      compareAndSet: async () => {
        attempts++;
        return false;
      },
    });
    const service = createLockService({ store });
    const error = await service.acquire('page:1', alice, { clientId: 'tab-1' }).then(
      () => null,
      (rejection: unknown) => rejection,
    );
    expect(error).toBeInstanceOf(LockStoreError);
    expect((error as LockStoreError).code).toBe('store-error');
    expect(((error as LockStoreError).cause as Error).message).toBe(
      '[page-lock] [record-store] acquire of "page:1" lost the compare-and-set 16 times in a row (other writers kept changing the record); nothing was changed. Raise "maxAttempts" if this resource is this busy.',
    );
    expect(attempts).toBe(16);
    expect(rows.size).toBe(0);
    expect((await service.get('page:1')).status).toBe('free');

    const handler = createLockHandler({ service, basePath: '/api/locks', getUser: () => alice });
    const response = await handler(
      new Request('http://admin.test/api/locks/page%3A1', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ clientId: 'tab-1' }),
      }),
    );
    expect(response.status).toBe(500);
    const body = await response.json();
    expect(body.error.code).toBe('store-error');
    expect(JSON.stringify(body).includes('compare-and-set')).toBe(false); // no internals
  });

  it('gives up after maxAttempts', async () => {
    const { records } = mapRecords();
    let attempts = 0;
    const store = createRecordLockStore({
      ...records,
      maxAttempts: 3,
      compareAndSet: () => {
        attempts++;
        return false;
      },
    });
    await expect(store.forceRelease('page:1', { now: 0 })).resolves.toBeNull(); // nothing to write
    await expect(store.acquire(acquireInput(alice, 1_000, 't'))).rejects.toThrow(
      'acquire of "page:1" lost the compare-and-set 3 times in a row',
    );
    expect(attempts).toBe(3);
  });

  it('refuses a compareAndSet that does not say whether it wrote', async () => {
    const { records } = mapRecords();
    const store = createRecordLockStore({
      ...records,
      // @ts-expect-error: forgot to return whether it wrote
      compareAndSet: async () => {},
    });
    await expect(store.acquire(acquireInput(alice, 1_000, 't'))).rejects.toThrow(
      '[page-lock] [record-store] compareAndSet() must resolve to true (it wrote) or false (the version had moved on), not undefined',
    );
  });

  it('refuses what read() gives when it is not this resource’s record', async () => {
    const { rows, records } = mapRecords();
    await createRecordLockStore(records).acquire(acquireInput(alice, 1_000, 't'));
    const stored = JSON.parse(rows.get('page:1') as string) as LockRecord;
    const reading = (value: unknown) =>
      createRecordLockStore({ ...records, read: () => value as LockRecord }).get('page:1', {
        now: 1_000,
      });
    await expect(reading(JSON.stringify(stored))).rejects.toThrow(
      '[page-lock] [record-store] read() must give record objects (or null), not a string',
    );
    await expect(reading({ ...stored, version: undefined })).rejects.toThrow(
      'read() gave a record without a valid "version"',
    );
    await expect(reading({ ...stored, resourceId: 'page:2' })).rejects.toThrow(
      'read() gave something that is not a lock record for "page:1"',
    );
    await expect(reading(undefined)).resolves.toBeNull();
  });

  it('without the list option, list() says which option enables it (a 500 at the service)', async () => {
    const { read, compareAndSet } = mapRecords().records;
    const store = createRecordLockStore({ read, compareAndSet });
    await expect(store.list({ now: 0 })).rejects.toThrow(
      '[page-lock] [record-store] list() needs the option "list", a function that returns every record (for an admin screen)',
    );
    await expect(createLockService({ store }).list()).rejects.toBeInstanceOf(LockStoreError);
  });

  it('writes nothing for reads, checks and refused calls, and versions every write by one', async () => {
    const { rows, records } = mapRecords();
    const writes: Array<[number | null, number]> = [];
    const store = createRecordLockStore({
      ...records,
      compareAndSet: (id, expected, next) => {
        writes.push([expected, next.version]);
        return records.compareAndSet(id, expected, next);
      },
    });
    await store.get('page:1', { now: 0 });
    await store.check({ resourceId: 'page:1', token: 't', now: 0 });
    await store.release({ resourceId: 'page:1', token: 't', now: 0 });
    await store.acquire({ ...acquireInput(alice, 0, 'x'), token: 'made-up' });
    expect(rows.size).toBe(0);
    await store.acquire(acquireInput(alice, 1_000, 't'));
    await store.acquire(acquireInput(bob, 1_000, 'u')); // locked: no write
    await store.release({ resourceId: 'page:1', token: 't', now: 2_000 });
    expect(writes).toEqual([
      [null, 1],
      [1, 2],
    ]);
  });
});
