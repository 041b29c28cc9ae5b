import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLockService, type LockService } from '../../server-adapter';
import { createLocalLockFeed } from '../../server-adapter/live/local-feed';
import type { LockChange, LockFeed } from '../../server-adapter/live/lock-feed';
import {
  createPostgresLockFeed,
  createPostgresLockStore,
  type PostgresListenConnection,
  type PostgresLockFeedPool,
} from '../../server-adapter/postgres';
import { createRedisLockFeed, createRedisLockStore } from '../../server-adapter/redis';
import { runLockFeedContract } from '../contract';

const redisUrl = process.env.PAGE_LOCK_REDIS_URL;
const postgresUrl = process.env.PAGE_LOCK_POSTGRES_URL;
const api = { describe, it, expect, beforeEach, afterEach };
const alice = { id: 'alice', name: 'Alice' };

const unique = (): string => randomBytes(6).toString('hex');

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await pause(5);
  }
}

/** Probes from `from` until `to` hears one: SUBSCRIBE / LISTEN are answered asynchronously. */
async function untilListening(from: LockFeed, to: LockFeed): Promise<void> {
  const probe = `probe-${unique()}`;
  let heard = false;
  const unsubscribe = to.subscribe((change) => {
    if (change.resourceId === probe) heard = true;
  });
  try {
    await until(async () => {
      await from.publish({ resourceId: probe, change: 'released', lock: null, at: 0 });
      await pause(20);
      return heard;
    }, 'the feed listens');
  } finally {
    unsubscribe();
  }
}

/** An acquire through instance A is heard by a subscriber of instance B's feed; so is a release. */
async function expectHandOverSeenAcross(serviceA: LockService, serviceB: LockService) {
  await untilListening(serviceA.feed, serviceB.feed);
  const resourceId = `page-${unique()}`;
  const seen: LockChange[] = [];
  serviceB.feed.subscribe((change) => {
    if (change.resourceId === resourceId) seen.push(change);
  });
  const held = await serviceA.acquire(resourceId, alice, { clientId: 'tab-a' });
  if (held.status !== 'held') throw new Error(`expected held, got ${held.status}`);
  await until(() => seen.length >= 1, 'B hears the acquire');
  expect(seen).toEqual([{ resourceId, change: 'acquired', lock: held.lock, at: held.now }]);

  const released = await serviceA.release(resourceId, held.token);
  await until(() => seen.length >= 2, 'B hears the release');
  expect(seen[1]).toEqual({ resourceId, change: 'released', lock: null, at: released.now });
}

describe('local lock feed', () => {
  runLockFeedContract(
    'local',
    () => {
      const feed = createLocalLockFeed();
      return { feeds: [feed, feed] };
    },
    api,
  );
});

// --- Redis -----------------------------------------------------------------------------------

/** The connections named `name`, read from Redis itself. */
async function redisConnectionsNamed(admin: Redis, name: string): Promise<number> {
  const list = (await admin.client('LIST')) as string;
  return list.split('\n').filter((line) => line.includes(` name=${name} `)).length;
}

if (!redisUrl) {
  it.skip('Redis lock feed: set PAGE_LOCK_REDIS_URL=redis://127.0.0.1:6379 to run these tests');
} else {
  runLockFeedContract(
    'redis',
    () => {
      const channel = `page-lock-test:${unique()}:changes`;
      const clients = [new Redis(redisUrl), new Redis(redisUrl), new Redis(redisUrl)];
      const [clientA, clientB, admin] = clients as [Redis, Redis, Redis];
      return {
        feeds: [
          createRedisLockFeed({ client: clientA, channel }),
          createRedisLockFeed({ client: clientB, channel }),
        ],
        sendRaw: async (message) => {
          await admin.publish(channel, message);
        },
        countSubscribed: async () => Number((await admin.pubsub('NUMSUB', channel))[1]),
        cleanup: async () => {
          await Promise.all(clients.map((client) => client.quit()));
        },
      };
    },
    api,
  );
}

describe.skipIf(!redisUrl)('createRedisLockFeed', () => {
  const opened: Redis[] = [];
  const connect = (name?: string): Redis => {
    const client = new Redis(redisUrl as string, name ? { connectionName: name } : {});
    opened.push(client);
    return client;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((client) => client.quit().catch(() => {})));
  });

  it('refuses bad options with a clear message', () => {
    const client = connect();
    // @ts-expect-error: no client
    expect(() => createRedisLockFeed({})).toThrow(
      '[page-lock] [redis] Option "client" must be a Redis client with publish()',
    );
    expect(() => createRedisLockFeed({ client, channel: '' })).toThrow(
      '[page-lock] [redis] Option "channel" must be a non-empty string',
    );
    expect(() => createRedisLockFeed({ client, subscriber: client })).toThrow(
      'must be a connection of its own, not "client"',
    );
    const withoutDuplicate = { publish: client.publish.bind(client) };
    expect(() => createRedisLockFeed({ client: withoutDuplicate })).toThrow(
      '[page-lock] [redis] The client has no duplicate(): pass option "subscriber", a connection of its own for SUBSCRIBE',
    );
  });

  it('opens no connection before the first subscriber, and quits the one it made on close', async () => {
    const name = `page-lock-feed-${unique()}`;
    const admin = connect();
    const client = connect(name);
    await client.ping();
    const feed = createRedisLockFeed({ client, channel: `page-lock-test:${unique()}` });
    await feed.publish({ resourceId: 'x', change: 'released', lock: null, at: 1 });
    expect(await redisConnectionsNamed(admin, name)).toBe(1);
    await untilListening(feed, feed); // the duplicate keeps the client's name
    expect(await redisConnectionsNamed(admin, name)).toBe(2);
    await feed.close();
    await until(
      async () => (await redisConnectionsNamed(admin, name)) === 1,
      'the duplicate quits',
    );
    expect(client.status).toBe('ready'); // the user's client stays open
    await expect(
      feed.publish({ resourceId: 'x', change: 'released', lock: null, at: 1 }),
    ).rejects.toThrow('[page-lock] [redis] The lock feed is closed');
    expect(() => feed.subscribe(() => {})).toThrow('[page-lock] [redis] The lock feed is closed');
  });

  it('leaves a subscriber connection it was given open, unsubscribed, with no listener of its own', async () => {
    const channel = `page-lock-test:${unique()}`;
    const admin = connect();
    const subscriber = connect();
    const feed = createRedisLockFeed({ client: connect(), subscriber, channel });
    const before = subscriber.listenerCount('message');
    await untilListening(feed, feed);
    expect(subscriber.listenerCount('message')).toBe(before + 1);
    await feed.close();
    expect(subscriber.listenerCount('message')).toBe(before);
    expect(Number((await admin.pubsub('NUMSUB', channel))[1])).toBe(0);
    expect(subscriber.status).toBe('ready');
  });

  it('10,000 subscribe/unsubscribe cycles add no connection and no message listener', async () => {
    const name = `page-lock-feed-${unique()}`;
    const channel = `page-lock-test:${unique()}`;
    const admin = connect();
    const client = connect(name);
    const subscriber = connect(name);
    const feed = createRedisLockFeed({ client, subscriber, channel });
    await untilListening(feed, feed);
    const connections = await redisConnectionsNamed(admin, name);
    const messageListeners = subscriber.listenerCount('message');
    for (let i = 0; i < 10_000; i++) feed.subscribe(() => {})();
    expect(subscriber.listenerCount('message')).toBe(messageListeners);
    expect(await redisConnectionsNamed(admin, name)).toBe(connections);
    expect(Number((await admin.pubsub('NUMSUB', channel))[1])).toBe(1);
    await feed.close();
  });

  it('an acquire through instance A reaches a subscriber of instance B (two services, one Redis)', async () => {
    const prefix = `page-lock-test:${unique()}:`;
    const channel = `${prefix}changes`;
    const [clientA, clientB] = [connect(), connect()];
    const serviceA = createLockService({
      store: createRedisLockStore({ client: clientA, prefix, warnIfVolatile: false }),
      feed: createRedisLockFeed({ client: clientA, channel }),
    });
    const serviceB = createLockService({
      store: createRedisLockStore({ client: clientB, prefix, warnIfVolatile: false }),
      feed: createRedisLockFeed({ client: clientB, channel }),
    });
    try {
      await expectHandOverSeenAcross(serviceA, serviceB);
    } finally {
      await Promise.all([serviceA.feed.close(), serviceB.feed.close()]);
      const keys = await clientA.keys(`${prefix}*`);
      if (keys.length > 0) await clientA.del(...keys);
    }
  });
});

// --- Postgres --------------------------------------------------------------------------------

function newPool(applicationName = 'page-lock-test'): pg.Pool {
  const pool = new pg.Pool({
    connectionString: postgresUrl,
    max: 4,
    application_name: applicationName,
  });
  pool.on('error', () => {}); // a dropped idle connection is the pool's business, not the test's
  return pool;
}

/** Connections of `applicationName` whose last statement was `LISTEN` on `channel`. */
async function listeningOn(
  admin: pg.Pool,
  applicationName: string,
  channel: string,
): Promise<number> {
  const { rows } = await admin.query(
    'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND query = $2',
    [applicationName, `LISTEN "${channel}"`],
  );
  return rows[0].n as number;
}

async function connectionsOf(admin: pg.Pool, applicationName: string): Promise<number> {
  const { rows } = await admin.query(
    'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
    [applicationName],
  );
  return rows[0].n as number;
}

/** The pool itself, with the connections it hands out kept in view (to count their listeners). */
function watched(pool: pg.Pool): {
  pool: PostgresLockFeedPool;
  handedOut: PostgresListenConnection[];
} {
  const handedOut: PostgresListenConnection[] = [];
  return {
    handedOut,
    pool: {
      query: (text, values) => pool.query(text, values),
      connect: async () => {
        const connection = await pool.connect();
        handedOut.push(connection);
        return connection;
      },
    },
  };
}

if (!postgresUrl) {
  it.skip(
    'Postgres lock feed: set PAGE_LOCK_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test to run these tests',
  );
} else {
  runLockFeedContract(
    'postgres',
    () => {
      const channel = `page_lock_test_${unique()}`;
      const applicationName = `page-lock-feed-${unique()}`;
      const pools = [newPool(applicationName), newPool(applicationName), newPool()];
      const [poolA, poolB, admin] = pools as [pg.Pool, pg.Pool, pg.Pool];
      return {
        feeds: [
          createPostgresLockFeed({ pool: poolA, channel }),
          createPostgresLockFeed({ pool: poolB, channel }),
        ],
        sendRaw: async (message) => {
          await admin.query('SELECT pg_notify($1, $2)', [channel, message]);
        },
        countSubscribed: () => listeningOn(admin, applicationName, channel),
        cleanup: async () => {
          await Promise.all(pools.map((pool) => pool.end()));
        },
      };
    },
    api,
  );
}

describe.skipIf(!postgresUrl)('createPostgresLockFeed', () => {
  const pools: pg.Pool[] = [];
  const open = (applicationName?: string): pg.Pool => {
    const pool = newPool(applicationName);
    pools.push(pool);
    return pool;
  };
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.end()));
  });

  it('refuses bad options with a clear message', () => {
    const pool = open();
    // @ts-expect-error: no pool
    expect(() => createPostgresLockFeed({})).toThrow(
      '[page-lock] [postgres] Option "pool" must be a pg Pool',
    );
    for (const bad of ['page-lock', 'a"b', 'x; DROP TABLE y', '', '1chan', 'a'.repeat(64)]) {
      expect(() => createPostgresLockFeed({ pool, channel: bad })).toThrow(
        '[page-lock] [postgres] Option "channel" must be a plain SQL identifier',
      );
    }
  });

  it('takes a connection only at the first subscribe, and gives it back, unlistened, on close', async () => {
    const applicationName = `page-lock-feed-${unique()}`;
    const channel = `Page_Lock_${unique()}`; // mixed case: quoted alike for LISTEN and pg_notify
    const admin = open();
    const pool = open(applicationName);
    const feed = createPostgresLockFeed({ pool, channel });
    await feed.publish({ resourceId: 'x', change: 'released', lock: null, at: 1 });
    expect(pool.totalCount - pool.idleCount).toBe(0);
    await untilListening(feed, feed);
    expect(await listeningOn(admin, applicationName, channel)).toBe(1);
    expect(pool.totalCount - pool.idleCount).toBe(1);
    await feed.close();
    expect(pool.totalCount - pool.idleCount).toBe(0);
    expect(await listeningOn(admin, applicationName, channel)).toBe(0);
    await expect(
      feed.publish({ resourceId: 'x', change: 'released', lock: null, at: 1 }),
    ).rejects.toThrow('[page-lock] [postgres] The lock feed is closed');
  });

  it('listens again when its connection dies (changes sent meanwhile are missed)', async () => {
    const applicationName = `page-lock-feed-${unique()}`;
    const channel = `page_lock_test_${unique()}`;
    const admin = open();
    const feed = createPostgresLockFeed({ pool: open(applicationName), channel });
    const publisher = createPostgresLockFeed({ pool: admin, channel });
    await untilListening(publisher, feed);
    await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query = $2',
      [applicationName, `LISTEN "${channel}"`],
    );
    await untilListening(publisher, feed); // heard again: it listens on a new connection
    expect(await listeningOn(admin, applicationName, channel)).toBe(1);
    await Promise.all([feed.close(), publisher.close()]);
  });

  it('10,000 subscribe/unsubscribe cycles add no connection and no notification listener', async () => {
    const applicationName = `page-lock-feed-${unique()}`;
    const admin = open();
    const { pool, handedOut } = watched(open(applicationName));
    const feed = createPostgresLockFeed({ pool, channel: `page_lock_test_${unique()}` });
    await untilListening(feed, feed);
    const connections = await connectionsOf(admin, applicationName);
    const [listening] = handedOut as [pg.PoolClient];
    expect(handedOut).toHaveLength(1);
    expect(listening.listenerCount('notification')).toBe(1);
    for (let i = 0; i < 10_000; i++) feed.subscribe(() => {})();
    expect(handedOut).toHaveLength(1);
    expect(listening.listenerCount('notification')).toBe(1);
    expect(await connectionsOf(admin, applicationName)).toBe(connections);
    await feed.close();
    expect(listening.listenerCount('notification')).toBe(0);
  });

  it('an acquire through instance A reaches a subscriber of instance B (two services, one database)', async () => {
    const table = `page_lock_test_${unique()}`;
    const channel = `${table}_changes`;
    const [poolA, poolB] = [open(), open()];
    const storeA = createPostgresLockStore({ pool: poolA, table });
    await storeA.migrate();
    const serviceA = createLockService({
      store: storeA,
      feed: createPostgresLockFeed({ pool: poolA, channel }),
    });
    const serviceB = createLockService({
      store: createPostgresLockStore({ pool: poolB, table }),
      feed: createPostgresLockFeed({ pool: poolB, channel }),
    });
    try {
      await expectHandOverSeenAcross(serviceA, serviceB);
    } finally {
      await Promise.all([serviceA.feed.close(), serviceB.feed.close()]);
      await poolA.query(`DROP TABLE IF EXISTS ${table}`);
    }
  });
});
