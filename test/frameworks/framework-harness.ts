import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLockService, type LockService } from '../../server-adapter/service/lock-service';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import { createHttpLockAdapter } from '../../src/core/http-adapter';
import { type AdaptersUnderTest, runLockAdapterContract } from '../contract/adapter-contract';

/**
 * What each framework test shares: a lock service over the memory store with a clock the test
 * moves, the framework's real server on loopback (port 0), and the adapter contract suite run
 * through it with the HTTP adapter over Node's real fetch, signed in with the examples' demo
 * session cookie.
 */

export const LOCKS_PATH = '/api/locks';
export const TTL = 30_000;

export interface ServiceUnderTest {
  service: LockService;
  advance(ms: number): void;
}

export function createTestService(): ServiceUnderTest {
  let offset = 0;
  const service = createLockService({
    store: createMemoryLockStore(),
    ttl: TTL,
    now: () => Date.now() + offset,
  });
  return {
    service,
    advance: (ms) => {
      offset += ms;
    },
  };
}

/** A started server's origin, e.g. `http://127.0.0.1:40123`. */
export function originOf(server: Server): string {
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** Resolves once `server` listens on a free loopback port. */
export function listenOnLoopback(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(originOf(server)));
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

export interface RunningFramework {
  /** Where the app listens, e.g. `http://127.0.0.1:40123`. */
  origin: string;
  stop(): Promise<void>;
}

/**
 * Starts the framework once for the file (`start` gets the service) and runs the adapter
 * contract against it.
 */
export function runContractThrough(
  name: string,
  start: (service: LockService) => Promise<RunningFramework>,
): void {
  const subject = createTestService();
  let running: RunningFramework | undefined;
  beforeAll(async () => {
    running = await start(subject.service);
  });
  afterAll(async () => {
    await running?.stop();
  });

  runLockAdapterContract(
    name,
    () => {
      if (!running) throw new Error('the framework did not start');
      return demoAdapters(running.origin, subject.advance);
    },
    CONTRACT_API,
  );
}

/** Vitest's functions, as the contract suites take them. */
export const CONTRACT_API = { describe, it, expect, beforeEach, afterEach };

/** Alice and Bob through the HTTP adapter over real fetch, signed in with the demo cookie. */
export function demoAdapters(origin: string, advance: (ms: number) => void): AdaptersUnderTest {
  const baseUrl = `${origin}${LOCKS_PATH}`;
  const signedInAs = (user: string) =>
    createHttpLockAdapter({ baseUrl, headers: { Cookie: `demo-user=${user}` } });
  return { alice: signedInAs('alice'), bob: signedInAs('bob'), advance };
}

/** `POST {base}/{id}` as Alice, the way the browser acquires. */
export function acquireAsAlice(origin: string, id: string): Promise<Response> {
  return fetch(`${origin}${LOCKS_PATH}/${encodeURIComponent(id)}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Cookie: 'demo-user=alice' },
    body: JSON.stringify({ clientId: 'tab-1' }),
  });
}
