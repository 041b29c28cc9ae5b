import { serve } from '@hono/node-server';
import { createLockService, createMemoryLockStore } from 'page-lock/server';
import { createApp } from './app';

// One process, so the memory store will do; use page-lock/sqlite (one server) or page-lock/redis
// or page-lock/postgres (several) to keep locks across restarts.
const service = createLockService({ store: createMemoryLockStore() });
const port = Number(process.env.PORT ?? 3000);

serve({ fetch: createApp(service).fetch, port }, (info) => {
  console.log(`page-lock Hono example on http://localhost:${info.port}`);
});
