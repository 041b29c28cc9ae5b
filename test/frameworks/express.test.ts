import { createServer } from 'node:http';
import express from 'express';
import { toNodeHandler } from 'page-lock/node';
import { createLockHandler } from 'page-lock/server';
import { describe, expect, it, vi } from 'vitest';
import { createApp } from '../../examples/express/app';
import { getDemoUser } from '../../examples/express/session';
import {
  acquireAsAlice,
  closeServer,
  createTestService,
  LOCKS_PATH,
  listenOnLoopback,
  runContractThrough,
} from './framework-harness';

// The example's own app (examples/express/app.ts) on Express 5's real server.
runContractThrough('Express 5 (examples/express)', async (service) => {
  const server = createServer(createApp(service));
  const origin = await listenOnLoopback(server);
  return { origin, stop: () => closeServer(server) };
});

describe('Express 5: mounting', () => {
  it('answers the batch GET on the mount path itself, and the app’s own routes still work', async () => {
    const { service } = createTestService();
    const server = createServer(createApp(service));
    const origin = await listenOnLoopback(server);
    try {
      const batch = await fetch(`${origin}${LOCKS_PATH}?ids=page%3A1`, {
        headers: { Cookie: 'demo-user=bob' },
      });
      expect(batch.status).toBe(200);
      expect(await batch.json()).toMatchObject({ locks: { 'page:1': { status: 'free' } } });
      const home = await fetch(`${origin}/`);
      expect(await home.text()).toMatch(/page-lock Express example/);
    } finally {
      await closeServer(server);
    }
  });

  it('answers 500 and logs the fix once when express.json() is mounted in front of the lock routes', async () => {
    const { service } = createTestService();
    const app = express();
    app.use(express.json()); // the mistake
    app.use(
      LOCKS_PATH,
      toNodeHandler(createLockHandler({ service, basePath: LOCKS_PATH, getUser: getDemoUser })),
    );
    const server = createServer(app);
    const origin = await listenOnLoopback(server);
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const first = await acquireAsAlice(origin, 'page:1');
      expect(first.status).toBe(500);
      expect(first.headers.get('Page-Lock-Version')).toBe('1');
      expect(await first.json()).toMatchObject({ error: { code: 'store-error' } });
      const second = await acquireAsAlice(origin, 'page:1');
      expect(second.status).toBe(500);

      expect(logged).toHaveBeenCalledTimes(1);
      const message = String(logged.mock.calls[0]?.[0]);
      expect(message).toMatch(/^\[page-lock\] \[node\] A body parser read the request body/);
      expect(message).toContain('above app.use(express.json())');
      // Nothing was granted.
      expect(await service.list()).toEqual([]);
    } finally {
      logged.mockRestore();
      await closeServer(server);
    }
  });
});
