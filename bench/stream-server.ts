/**
 * The lock server `bench/streams.ts` measures, in a process of its own so its memory is apart
 * from the clients': SQLite on a temp file, createLockHandler, toNodeHandler, node:http on
 * 127.0.0.1. Run with `node --expose-gc --import tsx`. It prints `READY <port>,<port>,…` once listening,
 * and exits when its stdin closes (the bench ended, or died).
 *
 * One side route besides the lock route: `GET /bench/memory` collects garbage, then answers
 * `process.memoryUsage()`, the hub's counts and the open connections (`?gc=0`: without the GC).
 *
 * Env: STREAM_BENCH_MAX_STREAMS (the handler's `maxStreams`), STREAM_BENCH_PORTS (how many ports
 * it listens on, default 4, all served by the same handler).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLockHandler } from '../server-adapter/handler/lock-handler';
import { liveHubStats } from '../server-adapter/live/live-hub';
import { toNodeHandler } from '../server-adapter/node/to-node-handler';
import { createLockService } from '../server-adapter/service/lock-service';
import { createSqliteLockStore } from '../server-adapter/sqlite/sqlite-store';

export const BASE = '/api/locks';
/** The session: whoever the `X-User` header names (a bench on loopback, not an app). */
const USER_HEADER = 'x-user';

const PORTS = Number(process.env.STREAM_BENCH_PORTS ?? 4);

const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) throw new Error('[bench:streams] Start the server with node --expose-gc');

const dataDir = mkdtempSync(path.join(tmpdir(), 'page-lock-streams-'));
const store = createSqliteLockStore({ filename: path.join(dataDir, 'locks.db') });
const service = createLockService({ store, ttl: 90_000 });
const handler = createLockHandler({
  service,
  basePath: BASE,
  getUser: (request) => {
    const id = request.headers.get(USER_HEADER);
    return id ? { id, name: id } : null;
  },
  maxStreams: Number(process.env.STREAM_BENCH_MAX_STREAMS ?? 10_000),
  onError: (error) => console.error('[bench:streams] [server]', error),
});
const lockRoute = toNodeHandler(handler);

/** Open connections over every listening port. */
const connections = async (): Promise<number> => {
  let total = 0;
  for (const server of servers) {
    total += await new Promise<number>((resolve) =>
      server.getConnections((error, count) => resolve(error ? Number.NaN : count)),
    );
  }
  return total;
};

const listener = (req: IncomingMessage, res: ServerResponse): void => {
  if (req.url === '/bench/memory' || req.url === '/bench/memory?gc=0') {
    // Twice: the first pass runs finalizers that free more for the second. The ramp skips it
    // (a full GC of a large heap on a busy machine costs seconds of its time cap).
    if (req.url === '/bench/memory') {
      collect();
      collect();
    }
    void connections().then((open) => {
      let memory: NodeJS.MemoryUsage | null = null;
      let memoryError: string | null = null;
      try {
        memory = process.memoryUsage();
      } catch (error) {
        // RSS is read from /proc: at the open-files limit even that fails (EMFILE).
        memoryError = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      }
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({ memory, memoryError, hub: liveHubStats(service), connections: open }),
      );
    });
    return;
  }
  void lockRoute(req, res);
};

// Several ports, one process, one handler: clients connecting to one port only would make the
// client's kernel search long for a free ephemeral port once most of them are in use.
const servers: Server[] = Array.from({ length: PORTS }, () => {
  const server = createServer(listener);
  // The baseline keeps idle keep-alive connections open while it measures them (Node's default
  // closes them after 5 s).
  server.keepAliveTimeout = 120_000;
  server.on('error', (error) => console.error('[bench:streams] [server]', error));
  return server;
});
void Promise.all(
  servers.map(
    (server) =>
      new Promise<number>((resolve) => {
        // Many connections arrive at once while streams open in batches.
        server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () =>
          resolve((server.address() as AddressInfo).port),
        );
      }),
  ),
).then((ports) => console.log(`READY ${ports.join(',')}`));

const stop = (): void => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
  void store.close().finally(() => {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
};
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
