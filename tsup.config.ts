import { defineConfig } from 'tsup';

// Every public entry point, once. Optional peers stay external and are imported only by their
// own entry, so `page-lock/server` never pulls in better-sqlite3, ioredis, pg or msw.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    core: 'src/core/index.ts',
    msw: 'src/msw/index.ts',
    server: 'server-adapter/index.ts',
    next: 'server-adapter/next/index.ts',
    sqlite: 'server-adapter/sqlite/index.ts',
    redis: 'server-adapter/redis/index.ts',
    postgres: 'server-adapter/postgres/index.ts',
    testing: 'test/contract/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  treeshake: true,
  external: [
    'react',
    'react-dom',
    '@tanstack/react-query',
    'better-sqlite3',
    'ioredis',
    'pg',
    'msw',
    'next',
  ],
});
