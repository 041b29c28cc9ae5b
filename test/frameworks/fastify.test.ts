import Fastify, { type FastifyInstance } from 'fastify';
import { toNodeHandler } from 'page-lock/node';
import { createLockHandler } from 'page-lock/server';
import { describe, expect, it, vi } from 'vitest';
import { createApp } from '../../examples/fastify/app';
import { getDemoUser } from '../../examples/fastify/session';
import {
  acquireAsAlice,
  createTestService,
  LOCKS_PATH,
  runContractThrough,
} from './framework-harness';

async function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ port: 0, host: '127.0.0.1' });
}

// The example's own app (examples/fastify/app.ts) on Fastify 5's real server.
runContractThrough('Fastify 5 (examples/fastify)', async (service) => {
  const app = createApp(service);
  const origin = await listen(app);
  return { origin, stop: () => app.close() };
});

describe('Fastify 5: mounting', () => {
  it('takes the sendBeacon release (text/plain) and keeps the app’s other routes as they were', async () => {
    const { service } = createTestService();
    const app = createApp(service);
    // One of the app's own JSON routes, outside the lock routes' scope.
    app.post('/api/echo', async (request) => ({ parsed: request.body }));
    const origin = await listen(app);
    try {
      const acquired = await acquireAsAlice(origin, 'page:1');
      const { token } = (await acquired.json()) as { token: string };
      const released = await fetch(`${origin}${LOCKS_PATH}/page%3A1/release`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
        body: JSON.stringify({ token }),
      });
      expect(released.status).toBe(204);
      expect(await service.list()).toEqual([]);
      const home = await fetch(`${origin}/`);
      expect(await home.text()).toMatch(/page-lock Fastify example/);
      const echoed = await fetch(`${origin}/api/echo`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ title: 'Home' }),
      });
      expect(await echoed.json()).toEqual({ parsed: { title: 'Home' } });
    } finally {
      await app.close();
    }
  });

  it('answers 500 and logs the fix once when Fastify’s own JSON parser runs on the lock routes', async () => {
    const { service } = createTestService();
    const app = Fastify();
    const locks = toNodeHandler(
      createLockHandler({ service, basePath: LOCKS_PATH, getUser: getDemoUser }),
    );
    // The mistake: the routes registered without turning the body parser off.
    app.all(`${LOCKS_PATH}/*`, (request, reply) => {
      reply.hijack();
      return locks(request.raw, reply.raw);
    });
    const origin = await listen(app);
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const first = await acquireAsAlice(origin, 'page:1');
      expect(first.status).toBe(500);
      expect(await first.json()).toMatchObject({ error: { code: 'store-error' } });
      expect((await acquireAsAlice(origin, 'page:1')).status).toBe(500);

      expect(logged).toHaveBeenCalledTimes(1);
      const message = String(logged.mock.calls[0]?.[0]);
      expect(message).toMatch(/^\[page-lock\] \[node\] A body parser read the request body/);
      expect(message).toContain('removeAllContentTypeParsers()');
      expect(await service.list()).toEqual([]);
    } finally {
      logged.mockRestore();
      await app.close();
    }
  });
});
