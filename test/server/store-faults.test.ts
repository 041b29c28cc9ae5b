import { randomBytes } from 'node:crypto';
import {
  type AddressInfo,
  createServer,
  connect as netConnect,
  type Server,
  type Socket,
} from 'node:net';
import Redis from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createLockService, LockStoreError } from '../../server-adapter';
import { createPostgresLockStore } from '../../server-adapter/postgres';
import { createRedisLockStore } from '../../server-adapter/redis';

const redisUrl = process.env.PAGE_LOCK_REDIS_URL;
const postgresUrl = process.env.PAGE_LOCK_POSTGRES_URL;
const alice = { id: 'alice', name: 'Alice' };
const bob = { id: 'bob', name: 'Bob' };

/**
 * A real TCP hop in front of a server that the test can take down and bring back on the same
 * port: "the server is unreachable" without touching the server other tests share.
 */
class TcpForwarder {
  port = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly target: URL) {}

  async open(): Promise<void> {
    const server = createServer((socket) => {
      const upstream = netConnect(Number(this.target.port), this.target.hostname);
      for (const end of [socket, upstream]) {
        this.sockets.add(end);
        end.on('error', () => end.destroy());
        end.on('close', () => this.sockets.delete(end));
      }
      socket.on('close', () => upstream.destroy());
      upstream.on('close', () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and cuts every connection: the port is closed. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  url(): string {
    const url = new URL(this.target);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }
}

async function waitFor(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** What `promise` rejects with; handled at once, so a rejection that comes early is not unhandled. */
function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => new Error(`expected a rejection, got ${JSON.stringify(value)}`),
    (error: unknown) => error,
  );
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

if (!redisUrl || !postgresUrl) {
  it.skip(
    'Store faults: set PAGE_LOCK_REDIS_URL=redis://127.0.0.1:6379 and PAGE_LOCK_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test to run these tests',
  );
}

describe.skipIf(!redisUrl)('the Redis store when Redis fails', () => {
  const prefix = `page-lock-test:${randomBytes(6).toString('hex')}:`;

  /** A client as we recommend it: a call made while Redis is away fails instead of waiting. */
  const failFastClient = (url: string): Redis => {
    const client = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => 20 });
    client.on('error', () => {}); // each failed reconnect is reported here; the calls reject
    cleanups.push(() => client.quit().catch(() => client.disconnect()));
    return client;
  };

  const adminClient = (): Redis => {
    const admin = new Redis(redisUrl as string);
    cleanups.push(async () => {
      let cursor = '0';
      do {
        const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length > 0) await admin.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      await admin.quit();
    });
    return admin;
  };

  it('rejects with LockStoreError and grants nothing when its connection is killed mid-acquire, then works again', async () => {
    const admin = adminClient();
    const client = failFastClient(redisUrl as string);
    const service = createLockService({
      store: createRedisLockStore({ client, prefix, warnIfVolatile: false }),
    });
    const connectionId = String(await client.client('ID'));

    // Hold the acquire script in flight: CLIENT PAUSE WRITE parks it before it runs (flag "b").
    await admin.client('PAUSE', 5_000, 'WRITE');
    let failure: Promise<unknown>;
    try {
      failure = rejectionOf(service.acquire('page:killed', alice, { clientId: 'tab-a' }));
      await waitFor(
        async () => / flags=b /.test(String(await admin.client('LIST', 'ID', connectionId))),
        'the acquire to be in flight',
      );
      await admin.client('KILL', 'ID', connectionId);
    } finally {
      await admin.client('UNPAUSE');
    }
    const error = await failure;
    expect(error).toBeInstanceOf(LockStoreError);
    expect((error as Error).message).toBe('[page-lock] The lock store failed during acquire');

    // Read back from Redis itself: no grant, and the fence never moved.
    const reader = createRedisLockStore({ client: admin, prefix, warnIfVolatile: false });
    expect(await reader.get('page:killed', { now: Date.now() })).toBeNull();
    expect(await admin.exists(`${prefix}{page:killed}:state`, `${prefix}{page:killed}:fence`)).toBe(
      0,
    );

    // ioredis reconnects by itself; the next call is an ordinary first grant.
    const again = await service.acquire('page:killed', bob, { clientId: 'tab-b' });
    expect(again.status === 'held' && again.lock.fence).toBe(1);
    expect(String(await client.client('ID'))).not.toBe(connectionId);
  });

  it('rejects with LockStoreError and grants nothing while Redis is unreachable, then works once it is back', async () => {
    const admin = adminClient();
    const door = new TcpForwarder(new URL(redisUrl as string));
    await door.open();
    await door.close(); // a port that was free a moment ago, and is closed now
    cleanups.push(() => door.close());
    const client = failFastClient(door.url());
    const service = createLockService({
      store: createRedisLockStore({ client, prefix, warnIfVolatile: false }),
    });

    await expect(service.acquire('page:away', alice, { clientId: 'tab-a' })).rejects.toBeInstanceOf(
      LockStoreError,
    );
    await expect(service.get('page:away')).rejects.toBeInstanceOf(LockStoreError);
    expect(await admin.exists(`${prefix}{page:away}:fence`)).toBe(0);

    await door.open();
    await waitFor(async () => client.status === 'ready', 'ioredis to reconnect');
    const held = await service.acquire('page:away', alice, { clientId: 'tab-a' });
    expect(held.status === 'held' && held.lock.fence).toBe(1);

    // Down again while Alice holds it: her refresh fails, and nothing changes behind her back.
    await door.close();
    if (held.status !== 'held') return;
    await expect(
      service.acquire('page:away', alice, { clientId: 'tab-a', token: held.token }),
    ).rejects.toBeInstanceOf(LockStoreError);
    const reader = createRedisLockStore({ client: admin, prefix, warnIfVolatile: false });
    const stored = await reader.get('page:away', { now: Date.now() });
    expect(stored?.expiresAt).toBe(held.lock.expiresAt);
  });
});

describe.skipIf(!postgresUrl)('the Postgres store when Postgres fails', () => {
  const table = `page_lock_test_${randomBytes(6).toString('hex')}`;

  const newPool = (connectionString: string): pg.Pool => {
    const pool = new pg.Pool({ connectionString, max: 2, connectionTimeoutMillis: 2_000 });
    pool.on('error', () => {}); // a dropped idle connection; the calls themselves reject
    cleanups.push(() => pool.end());
    return pool;
  };

  const adminPool = async (): Promise<pg.Pool> => {
    const admin = newPool(postgresUrl as string);
    await createPostgresLockStore({ pool: admin, table }).migrate();
    cleanups.push(() => admin.query(`DROP TABLE IF EXISTS ${table}`));
    return admin;
  };

  const rowOf = async (admin: pg.Pool, resourceId: string) =>
    (await admin.query(`SELECT fence, lock FROM ${table} WHERE resource_id = $1`, [resourceId]))
      .rows[0];

  it('rejects with LockStoreError and grants nothing when its backend is terminated mid-acquire, then works again', async () => {
    const admin = await adminPool();
    const pool = newPool(postgresUrl as string);
    const service = createLockService({ store: createPostgresLockStore({ pool, table }) });
    const first = await service.acquire('page:terminated', alice, { clientId: 'tab-a' });
    if (first.status !== 'held') throw new Error('expected a grant');
    await service.release('page:terminated', first.token);

    // Hold the row so Bob's acquire waits on it, then terminate the backend that waits.
    const blocker = await admin.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM ${table} WHERE resource_id = $1 FOR UPDATE`, [
        'page:terminated',
      ]);
      const failure = rejectionOf(service.acquire('page:terminated', bob, { clientId: 'tab-b' }));
      let waiting: number | undefined;
      await waitFor(async () => {
        const { rows } = await admin.query(
          `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`,
          [`%${table}%FOR UPDATE%`],
        );
        waiting = rows[0]?.pid;
        return waiting !== undefined;
      }, 'the acquire to wait on the row');
      await admin.query('SELECT pg_terminate_backend($1)', [waiting]);
      const error = await failure;
      expect(error).toBeInstanceOf(LockStoreError);
      expect((error as Error).message).toBe('[page-lock] The lock store failed during acquire');
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }

    expect(await rowOf(admin, 'page:terminated')).toEqual({ fence: '1', lock: null });
    // The dead connection was thrown away, not handed out again.
    const again = await service.acquire('page:terminated', bob, { clientId: 'tab-b' });
    expect(again.status === 'held' && again.lock.fence).toBe(2);
  });

  it('rejects with LockStoreError and grants nothing while Postgres is unreachable, then works once it is back', async () => {
    const admin = await adminPool();
    const door = new TcpForwarder(new URL(postgresUrl as string));
    await door.open();
    await door.close();
    cleanups.push(() => door.close());
    const pool = newPool(door.url());
    const service = createLockService({ store: createPostgresLockStore({ pool, table }) });

    await expect(service.acquire('page:away', alice, { clientId: 'tab-a' })).rejects.toBeInstanceOf(
      LockStoreError,
    );
    await expect(service.getMany(['page:away'])).rejects.toBeInstanceOf(LockStoreError);
    expect(await rowOf(admin, 'page:away')).toBeUndefined();

    await door.open();
    const held = await service.acquire('page:away', alice, { clientId: 'tab-a' });
    expect(held.status === 'held' && held.lock.fence).toBe(1);

    // Cut mid-session: pooled connections die with the forwarder, and the next call fails.
    await door.close();
    if (held.status !== 'held') return;
    await expect(
      service.acquire('page:away', alice, { clientId: 'tab-a', token: held.token }),
    ).rejects.toBeInstanceOf(LockStoreError);
    const row = await rowOf(admin, 'page:away');
    expect(row.lock.expiresAt).toBe(held.lock.expiresAt);

    await door.open();
    const refreshed = await service.acquire('page:away', alice, {
      clientId: 'tab-a',
      token: held.token,
    });
    expect(refreshed.status === 'held' && refreshed.via).toBe('refreshed');
  });
});
