import { createServer } from 'node:http';
import { toNodeHandler } from 'page-lock/node';
import { createRequestHandler } from 'react-router';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { build } from '../../examples/react-router/build';
import { runLockAdapterContract } from '../contract/adapter-contract';
import {
  acquireAsAlice,
  CONTRACT_API,
  closeServer,
  demoAdapters,
  LOCKS_PATH,
  listenOnLoopback,
} from './framework-harness';

// The example as it is (its route module, its service module, React Router's createRequestHandler
// on node:http), with one change: the service runs on a clock this test moves.
const clock = vi.hoisted(() => ({ offset: 0 }));
vi.mock('page-lock/server', async (importOriginal) => {
  const server = await importOriginal<typeof import('page-lock/server')>();
  return {
    ...server,
    createLockService: (options: Parameters<typeof server.createLockService>[0]) =>
      server.createLockService({ ...options, now: () => Date.now() + clock.offset }),
  };
});

let origin = '';
let server: ReturnType<typeof createServer>;
beforeAll(async () => {
  server = createServer(toNodeHandler(createRequestHandler(build, 'production')));
  origin = await listenOnLoopback(server);
});
afterAll(async () => {
  await closeServer(server);
});

runLockAdapterContract(
  'React Router 7 resource route (examples/react-router)',
  () =>
    demoAdapters(origin, (ms) => {
      clock.offset += ms;
    }),
  CONTRACT_API,
);

describe('React Router 7: the resource route', () => {
  it('answers the batch GET on the base path (the splat may be empty) and the sendBeacon release', async () => {
    const acquired = await acquireAsAlice(origin, 'page:rr-1');
    expect(acquired.status).toBe(200);
    expect(acquired.headers.get('Page-Lock-Version')).toBe('1');
    const { token } = (await acquired.json()) as { token: string };
    const batch = await fetch(`${origin}${LOCKS_PATH}?ids=page%3Arr-1`, {
      headers: { Cookie: 'demo-user=bob' },
    });
    expect(await batch.json()).toMatchObject({ locks: { 'page:rr-1': { status: 'locked' } } });
    const released = await fetch(`${origin}${LOCKS_PATH}/page%3Arr-1/release`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ token }),
    });
    expect(released.status).toBe(204);
  });
});
