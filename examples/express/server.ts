import { createLockService, createMemoryLockStore } from 'page-lock/server';
import { createApp } from './app';

// One process, so the memory store will do; use page-lock/sqlite (one server) or page-lock/redis
// or page-lock/postgres (several) to keep locks across restarts.
const service = createLockService({ store: createMemoryLockStore() });
const port = Number(process.env.PORT ?? 3000);

createApp(service).listen(port, () => {
  console.log(`page-lock Express example on http://localhost:${port}`);
});
