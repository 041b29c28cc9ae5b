import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ensurePackageBuilt, REPOSITORY_ROOT } from '../e2e/support/demo-build';

interface PackedFile {
  path: string;
  size: number;
}

/** What `npm pack` would put in the tarball, as npm itself lists it. */
function packList(): { files: PackedFile[]; size: number; unpackedSize: number } {
  const json = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: REPOSITORY_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [packed] = JSON.parse(json) as {
    files: PackedFile[];
    size: number;
    unpackedSize: number;
  }[];
  if (!packed) throw new Error('npm pack listed nothing');
  return packed;
}

describe('what npm pack ships', () => {
  it('ships LICENSE, README, CHANGELOG, package.json and dist/ only, without source maps', () => {
    ensurePackageBuilt();
    const { files, size } = packList();
    const paths = files.map((file) => file.path);
    expect(paths).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'CHANGELOG.md']));
    const outside = paths.filter(
      (path) =>
        !path.startsWith('dist/') &&
        !['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json'].includes(path),
    );
    expect(outside).toEqual([]);
    expect(paths.filter((path) => path.endsWith('.map'))).toEqual([]);
    // Every entry point of `exports` is in the tarball, ESM, CJS and both type files.
    for (const entry of [
      'index',
      'core',
      'server',
      'next',
      'sqlite',
      'redis',
      'postgres',
      'msw',
      'testing',
    ]) {
      for (const extension of ['.js', '.cjs', '.d.ts', '.d.cts']) {
        expect(paths).toContain(`dist/${entry}${extension}`);
      }
    }
    expect(paths).toContain('dist/styles.css');
    console.log(
      `[page-lock] npm pack: ${files.length} files, ${(size / 1024).toFixed(1)} kB packed`,
    );
  }, 180_000);
});
