// `next start` as `npm run bench:load` (bench/load.ts) runs it: Next's own command line, in this
// same process, with two things added for the bench's streams phase.
//
// - `--keepAliveTimeout` (PAGE_LOCK_LOAD_KEEP_ALIVE_MS): the bench's anchor holds thousands of
//   idle keep-alive connections while it reads the server's memory, and Node's 5 s default would
//   close them before the last one is open.
// - A memory probe: on SIGUSR2 the process collects garbage (twice: the first pass runs
//   finalizers that free more for the second) and prints `PAGE_LOCK_LOAD_MEMORY {…}` (its
//   `process.memoryUsage()`) on stdout. /proc gives RSS, not the V8 heap; nothing else runs in
//   the server for the bench, and nothing at all until the bench sends the signal.
//
// Plain JavaScript: Next runs it with Node alone, without tsx.
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import vm from 'node:vm';

const nextBin = process.env.PAGE_LOCK_LOAD_NEXT_BIN;
const keepAliveMs = process.env.PAGE_LOCK_LOAD_KEEP_ALIVE_MS;
if (!nextBin || !keepAliveMs) {
  throw new Error(
    '[page-lock] [bench:load] Set PAGE_LOCK_LOAD_NEXT_BIN and PAGE_LOCK_LOAD_KEEP_ALIVE_MS',
  );
}

v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc');
process.on('SIGUSR2', () => {
  collect();
  collect();
  process.stdout.write(`PAGE_LOCK_LOAD_MEMORY ${JSON.stringify(process.memoryUsage())}\n`);
});

process.argv.push('--keepAliveTimeout', keepAliveMs);
// Next's command line is CommonJS, a file without an extension: `require` loads it as it is.
createRequire(import.meta.url)(nextBin);
