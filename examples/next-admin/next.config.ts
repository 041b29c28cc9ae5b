import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

// page-lock is linked from the repository root (an npm workspace), outside this app's folder:
// Turbopack and output tracing must be allowed to read files up there.
const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const config: NextConfig = {
  turbopack: { root: repositoryRoot },
  outputFileTracingRoot: repositoryRoot,
  // better-sqlite3 and pg are external by default; ioredis is not. Native and network clients
  // are loaded by Node at run time, never bundled.
  serverExternalPackages: ['better-sqlite3', 'ioredis', 'pg'],
  poweredByHeader: false,
};

export default config;
