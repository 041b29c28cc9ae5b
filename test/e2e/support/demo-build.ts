import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** The repository root and the demo app, from this file's place in `test/e2e/support/`. */
export const REPOSITORY_ROOT = path.resolve(import.meta.dirname, '../../..');
export const DEMO_DIR = path.join(REPOSITORY_ROOT, 'examples/next-admin');

/** Next's command line, run with this Node. */
export const NEXT_BIN = path.join(REPOSITORY_ROOT, 'node_modules/next/dist/bin/next');

const PACKAGE_INPUTS = ['src', 'server-adapter', 'test/contract', 'tsup.config.ts', 'package.json'];
const DEMO_INPUTS = ['app', 'components', 'lib', 'next.config.ts', 'package.json', 'tsconfig.json'];

/**
 * Builds the package (`npm run build`) and the demo (`next build`) only when their output is
 * missing or older than any of their sources, so a second run starts at once. The demo counts
 * the package's `dist/` among its sources: it imports `page-lock` through the workspace link.
 */
export function ensureDemoBuilt(log: (line: string) => void = console.log): void {
  ensurePackageBuilt(log);
  const buildMarker = path.join(DEMO_DIR, '.next/BUILD_ID');
  const demoSources = [
    ...DEMO_INPUTS.map((input) => path.join(DEMO_DIR, input)),
    path.join(REPOSITORY_ROOT, 'dist'),
  ];
  if (isStale(buildMarker, demoSources)) {
    log('[page-lock] [e2e] Building the demo (next build)…');
    run(process.execPath, [NEXT_BIN, 'build'], DEMO_DIR);
  }
}

/** Builds the package (`npm run build`) when `dist/` is missing or older than its sources. */
export function ensurePackageBuilt(log: (line: string) => void = console.log): void {
  const distMarker = path.join(REPOSITORY_ROOT, 'dist/index.js');
  const packageSources = PACKAGE_INPUTS.map((input) => path.join(REPOSITORY_ROOT, input));
  if (isStale(distMarker, packageSources)) {
    log('[page-lock] Building the package (npm run build)…');
    run('npm', ['run', 'build'], REPOSITORY_ROOT);
  }
}

function isStale(marker: string, sources: readonly string[]): boolean {
  if (!existsSync(marker)) return true;
  const builtAt = statSync(marker).mtimeMs;
  return sources.some((source) => newestChange(source) > builtAt);
}

function newestChange(file: string): number {
  if (!existsSync(file)) return 0;
  const stats = statSync(file);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(file)) {
    if (entry === 'node_modules' || entry === '.next' || entry === 'data') continue;
    newest = Math.max(newest, newestChange(path.join(file, entry)));
  }
  return newest;
}

function run(command: string, args: readonly string[], cwd: string): void {
  try {
    execFileSync(command, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(
      `[page-lock] [e2e] \`${command} ${args.join(' ')}\` failed:\n${stdout ?? ''}${stderr ?? ''}`,
    );
  }
}
