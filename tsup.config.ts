import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

/**
 * esbuild drops module directives when it bundles, so the client entry gets its `"use client"`
 * back here (the chunks it imports are client code through it), and the overlay's stylesheet is
 * shipped as `page-lock/styles.css`.
 */
async function finishClientEntry(): Promise<void> {
  for (const file of ['dist/index.js', 'dist/index.cjs']) {
    const code = readFileSync(file, 'utf8');
    if (!code.startsWith("'use client'")) writeFileSync(file, `'use client';\n${code}`);
  }
  copyFileSync('src/react/overlay/lock-overlay.css', 'dist/styles.css');
}

// Every public entry point, once. Optional peers stay external and are imported only by their
// own entry, so `page-lock/server` never pulls in better-sqlite3, ioredis, pg or msw.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    core: 'src/core/index.ts',
    memory: 'src/memory/index.ts',
    msw: 'src/msw/index.ts',
    server: 'server-adapter/index.ts',
    next: 'server-adapter/next/index.ts',
    node: 'server-adapter/node/index.ts',
    sqlite: 'server-adapter/sqlite/index.ts',
    redis: 'server-adapter/redis/index.ts',
    postgres: 'server-adapter/postgres/index.ts',
    testing: 'test/contract/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  // No source maps: they pointed at sources the package does not ship, and were most of its size.
  sourcemap: false,
  target: 'es2022',
  treeshake: true,
  onSuccess: finishClientEntry,
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
