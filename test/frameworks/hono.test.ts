import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../examples/hono/app';
import {
  acquireAsAlice,
  closeServer,
  createTestService,
  LOCKS_PATH,
  originOf,
  runContractThrough,
} from './framework-harness';

/** The example's app on @hono/node-server, on a free loopback port. */
function start(app: ReturnType<typeof createApp>): Promise<{ origin: string; server: Server }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
      resolve({ origin: originOf(server as Server), server: server as Server }),
    );
  });
}

// The example's own app (examples/hono/app.ts) on @hono/node-server.
runContractThrough('Hono on @hono/node-server (examples/hono)', async (service) => {
  const { origin, server } = await start(createApp(service));
  return { origin, stop: () => closeServer(server) };
});

describe('Hono: mounting', () => {
  it('answers the batch GET on the base path and the sendBeacon release (text/plain)', async () => {
    const { service } = createTestService();
    const { origin, server } = await start(createApp(service));
    try {
      const acquired = await acquireAsAlice(origin, 'page:1');
      const { token } = (await acquired.json()) as { token: string };
      const batch = await fetch(`${origin}${LOCKS_PATH}?ids=page%3A1`, {
        headers: { Cookie: 'demo-user=bob' },
      });
      expect(await batch.json()).toMatchObject({ locks: { 'page:1': { status: 'locked' } } });
      const released = await fetch(`${origin}${LOCKS_PATH}/page%3A1/release`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
        body: JSON.stringify({ token }),
      });
      expect(released.status).toBe(204);
    } finally {
      await closeServer(server);
    }
  });
});
