import { type ChildProcess, execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHROMIUM_MISSING_MESSAGE,
  isChromiumInstalled,
  launchChromium,
} from '../e2e/support/chromium';
import { ensurePackageBuilt } from '../e2e/support/demo-build';
import { freePort, startNextServer, stopNextServer } from '../e2e/support/next-server';
import { fileSnippets, installedPackages, readmeSection } from './readme-snippets';

/**
 * The README's quick start is a working app: its snippets, extracted by their path comments,
 * are written into a fresh Next.js app next to what `create-next-app` gives (a root layout, a
 * tsconfig), with a node_modules holding only create-next-app's packages and those the README's
 * install lines name. `next build` must pass (types included) and create no data folder; then
 * `next start` serves it and Chromium edits a page as Alice, is blocked as Bob, and has a save
 * over a stale version refused.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
/** The route the quick start borrows from "Saving safely" rather than printing it twice. */
const SAVE_ROUTE = 'app/api/pages/[id]/route.ts';
/** What `create-next-app` (TypeScript) installs; the README installs the rest. */
const CREATE_NEXT_APP_PACKAGES = [
  'next',
  'react',
  'react-dom',
  'typescript',
  '@types/node',
  '@types/react',
  '@types/react-dom',
];
/**
 * The package to install into the app: a folder holding its package.json and `dist/` (an
 * unpacked `npm pack`, say). Default: this repository, built when `dist/` is stale.
 */
const PACKAGE_DIR = process.env.PAGE_LOCK_QUICK_START_PACKAGE;
const NEXT_TIMEOUT_MS = 90_000;
/** `PAGE_LOCK_QUICK_START_KEEP=1` keeps the assembled app (its path is logged) to look into. */
const KEEP_APP = process.env.PAGE_LOCK_QUICK_START_KEEP === '1';

const log = (line: string) => console.log(`[page-lock] [quick-start] ${line}`);
const run = promisify(execFile);

if (!isChromiumInstalled()) console.log(CHROMIUM_MISSING_MESSAGE);

/** The app's files: the README's, then the few that `create-next-app` writes. */
function appFiles(readme: string): Record<string, string> {
  const quickStart = readmeSection(readme, '## Quick start');
  const files = fileSnippets(quickStart);
  const saving = fileSnippets(readmeSection(readme, '### Saving safely'));
  const saveRoute = saving.get(SAVE_ROUTE);
  if (!saveRoute || !quickStart.includes(SAVE_ROUTE)) {
    throw new Error(`The quick start must name ${SAVE_ROUTE}, printed in "Saving safely"`);
  }
  files.set(SAVE_ROUTE, saveRoute);
  for (const file of ['lib/session.ts', 'lib/locks.ts', 'lib/db.ts', 'app/pages/[id]/page.tsx']) {
    if (!files.has(file)) throw new Error(`The quick start prints no ${file}`);
  }
  return {
    ...Object.fromEntries(files),
    // What create-next-app writes (its layout without the Google fonts, which need a network).
    'app/layout.tsx': `import type { ReactNode } from 'react';

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
`,
    'tsconfig.json': `${JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2017',
          lib: ['dom', 'dom.iterable', 'esnext'],
          allowJs: true,
          skipLibCheck: true,
          strict: true,
          noEmit: true,
          esModuleInterop: true,
          module: 'esnext',
          moduleResolution: 'bundler',
          resolveJsonModule: true,
          isolatedModules: true,
          jsx: 'react-jsx',
          incremental: true,
          plugins: [{ name: 'next' }],
          paths: { '@/*': ['./*'] },
        },
        include: ['next-env.d.ts', '**/*.ts', '**/*.tsx', '.next/types/**/*.ts'],
        exclude: ['node_modules'],
      },
      null,
      2,
    )}\n`,
    'package.json': `${JSON.stringify({ name: 'quick-start', private: true }, null, 2)}\n`,
    // Not the reader's: the packages below are links into this repository's node_modules, and
    // Turbopack reads no file outside its root.
    'next.config.mjs': `export default { turbopack: { root: '/' }, outputFileTracingRoot: '/' };\n`,
  };
}

/**
 * node_modules with create-next-app's packages and the README's, nothing else: linked from this
 * repository's, except page-lock itself, copied as npm would install it (package.json and its
 * `files`), so the app resolves it through its exports to the built code.
 */
function installPackages(app: string, names: readonly string[], packageDir: string): void {
  for (const name of names) {
    const target = path.join(app, 'node_modules', name);
    mkdirSync(path.dirname(target), { recursive: true });
    if (name === 'page-lock') {
      const manifest = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
      mkdirSync(target);
      cpSync(path.join(packageDir, 'package.json'), path.join(target, 'package.json'));
      for (const entry of manifest.files as string[]) {
        const from = path.join(packageDir, entry);
        if (existsSync(from)) cpSync(from, path.join(target, entry), { recursive: true });
      }
      continue;
    }
    const source = path.join(ROOT, 'node_modules', name);
    if (!existsSync(source)) throw new Error(`${name} is not installed in this repository`);
    symlinkSync(realpathSync(source), target, 'dir');
  }
}

/** `next start` on loopback, in its own process group; resolves once it answers. */
function startNext(app: string, port: number): Promise<ChildProcess> {
  return startNextServer({
    cwd: app,
    nextBin: nextBin(app),
    port,
    hostname: '127.0.0.1',
    label: 'quick-start',
  });
}

const nextBin = (app: string) => path.join(app, 'node_modules/next/dist/bin/next');

interface PageRow {
  title: string;
  body: string;
  version: number;
  fence: number;
}

describe.skipIf(!isChromiumInstalled())('the README quick start, built and run', () => {
  let app: string;
  let url: string;
  let server: ChildProcess | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    const started = performance.now();
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const files = appFiles(readme);
    const installed = installedPackages(readmeSection(readme, '## Quick start'));
    expect(installed.dependencies).toContain('page-lock');

    let packageDir = PACKAGE_DIR;
    if (!packageDir) {
      ensurePackageBuilt(log);
      packageDir = ROOT;
    }

    app = mkdtempSync(path.join(tmpdir(), 'page-lock-quick-start-'));
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(app, name)), { recursive: true });
      writeFileSync(path.join(app, name), text);
    }
    const packages = [
      ...new Set([...CREATE_NEXT_APP_PACKAGES, ...installed.dependencies, ...installed.dev]),
    ];
    installPackages(app, packages, packageDir);

    const building = performance.now();
    try {
      await run(process.execPath, [nextBin(app), 'build'], {
        cwd: app,
        env: { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' },
        timeout: NEXT_TIMEOUT_MS,
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new Error(`next build failed on the README's quick start:\n${stdout}${stderr}`);
    }
    log(`next build took ${((performance.now() - building) / 1000).toFixed(1)} s`);

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = await startNext(app, port);
    browser = await launchChromium();
    log(`ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });

  afterAll(async () => {
    await browser?.close();
    await stopNextServer(server);
    if (app && KEEP_APP) log(`kept the app in ${app}`);
    else if (app) rmSync(app, { recursive: true, force: true });
  });

  /** A browser of its own (own cookies, own tab ids), signed in through the stand-in session. */
  const signedIn = async (name: string): Promise<Page> => {
    if (!browser) throw new Error('Chromium did not start');
    const context = await browser.newContext();
    contexts.push(context);
    await context.addCookies([{ name: 'user', value: name, url }]);
    return context.newPage();
  };

  /** The editor of page 1, once this tab holds the lock (its Save button is enabled). */
  const openPage = async (name: string): Promise<Page> => {
    const page = await signedIn(name);
    await page.goto(`${url}/pages/1`);
    return page;
  };

  const saveAnswer = (page: Page) =>
    page.waitForResponse(
      (response) =>
        response.request().method() === 'PUT' &&
        new URL(response.url()).pathname === '/api/pages/1',
    );

  const row = (): PageRow => {
    const db = new Database(path.join(app, 'data/content.db'), { readonly: true });
    try {
      return db
        .prepare('SELECT title, body, version, fence FROM pages WHERE id = 1')
        .get() as PageRow;
    } finally {
      db.close();
    }
  };

  let alice: Page;

  it('built with no data folder: nothing opened a database at build time', () => {
    expect(existsSync(path.join(app, '.next/BUILD_ID'))).toBe(true);
    expect(existsSync(path.join(app, 'data'))).toBe(false);
  });

  it('lets Alice open a page, type and save it (200)', async () => {
    alice = await openPage('Alice');
    await alice.locator('button[type="submit"]:not([disabled])').waitFor();
    await alice.getByLabel('Body').fill('Welcome, as Alice wrote it');
    const answer = saveAnswer(alice);
    await alice.getByRole('button', { name: 'Save' }).click();
    expect((await answer).status()).toBe(200);
    await alice.getByText('Saved.', { exact: true }).waitFor();
    expect(row()).toMatchObject({ body: 'Welcome, as Alice wrote it', version: 2 });
    expect(row().fence).toBeGreaterThan(0);
    // The stores opened at the first request, in the app's data folder.
    expect(existsSync(path.join(app, 'data/locks.db'))).toBe(true);
  });

  it('blocks Bob, in another browser, with the overlay naming Alice', async () => {
    const bob = await openPage('Bob');
    // The overlay's words, not its markup: its roles and focus are the e2e suite's to check.
    const notice = bob.getByText(/^Alice has been editing this page since /).first();
    await notice.waitFor();
    // Inert content is out of the accessibility tree: found by its markup.
    const title = bob.locator('input[name="title"]');
    expect(await title.evaluate((input) => input.closest('[inert]') !== null)).toBe(true);
    expect(await bob.locator('button[type="submit"]').isDisabled()).toBe(true);
    const box = await title.boundingBox();
    if (!box) throw new Error('the title field is not on screen');
    await bob.mouse.click(box.x + 10, box.y + box.height / 2);
    await bob.keyboard.type('Bob was here');
    expect(await title.inputValue()).toBe('Home');
  });

  it('refuses a save over a stale version (409), keeps the text and rechecks the lock', async () => {
    // Someone saved page 1 since Alice loaded it (version 2): her copy is stale.
    const db = new Database(path.join(app, 'data/content.db'));
    db.prepare(
      "UPDATE pages SET body = 'Saved elsewhere', version = version + 1 WHERE id = 1",
    ).run();
    db.close();

    const lockRequests: number[] = [];
    alice.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/api/locks/')) {
        lockRequests.push(performance.now());
      }
    });
    await alice.getByLabel('Body').fill('Alice, from a stale copy');
    const answer = saveAnswer(alice);
    await alice.getByRole('button', { name: 'Save' }).click();
    const refused = await answer;
    const refusedAt = performance.now();
    expect(refused.status()).toBe(409);
    expect(await refused.json()).toMatchObject({ error: { code: 'conflict' } });
    await alice.getByText('Not saved: This page was changed since you opened it.').waitFor();
    expect(await alice.getByLabel('Body').inputValue()).toBe('Alice, from a stale copy');
    expect(row()).toMatchObject({ body: 'Saved elsewhere', version: 3 });
    // recheck(): a lock request right after the refusal, not at the next poll (10 s).
    await expect
      .poll(() => lockRequests.some((at) => at >= refusedAt - 50), { timeout: 3_000 })
      .toBe(true);
  });
});
