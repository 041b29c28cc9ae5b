// Serves the built demo (`next start`) after making its data folder and saying how to try it.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const port = process.env.PORT ?? '3000';
const dataDir = path.resolve(process.env.PAGE_LOCK_DATA_DIR ?? path.join(appDir, 'data'));
mkdirSync(dataDir, { recursive: true });

const store = process.env.PAGE_LOCK_REDIS_URL
  ? 'Redis'
  : process.env.PAGE_LOCK_POSTGRES_URL
    ? 'Postgres'
    : `SQLite in ${path.relative(process.cwd(), dataDir) || '.'}`;

// \`next start\` listens on every address (dual-stack): each of these reaches it.
console.log(`
  page-lock demo: http://127.0.0.1:${port}   (locks: ${store})
  also at http://localhost:${port} and http://[::1]:${port}

  Try it as two users:
    1. Open http://127.0.0.1:${port} and sign in as Alice; open "Home".
    2. In another browser (or a private window) sign in as Bob and open "Home" too:
       Bob sees that Alice is editing it, and gets it as soon as Alice leaves.
    3. Sign in as Carol (editor-in-chief) instead of Bob: Carol may take the page over.
    4. As Bob, press "Ask to edit": Alice can hand the page over, or keep editing.
       Bob, Carol and Dan asking wait in line, in the order they asked.
`);

const nextBin = createRequire(import.meta.url).resolve('next/dist/bin/next');
const server = spawn(process.execPath, [nextBin, 'start', '--port', port], {
  cwd: appDir,
  stdio: 'inherit',
  env: { ...process.env, PAGE_LOCK_DATA_DIR: dataDir },
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.kill(signal));
}
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
