import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './test/e2e/support/chromium';

// Every story runs as a test in real Chromium (focus, `inert` and contrast need a browser).
const CHROMIUM = CHROMIUM_PATH;
const storybookProjects: TestProjectInlineConfiguration[] = [];
if (existsSync(CHROMIUM)) {
  process.env.STORYBOOK_DISABLE_TELEMETRY = '1';
  // Imported only here: loading Storybook costs a second that machines without Chromium skip.
  const { storybookTest } = await import('@storybook/addon-vitest/vitest-plugin');
  const { playwright } = await import('@vitest/browser-playwright');
  storybookProjects.push({
    extends: true,
    plugins: [
      storybookTest({ configDir: fileURLToPath(new URL('./.storybook', import.meta.url)) }),
    ],
    optimizeDeps: {
      include: [
        'react',
        'react/jsx-runtime',
        'react/jsx-dev-runtime',
        'react-dom',
        'react-dom/client',
      ],
    },
    test: {
      name: 'storybook',
      testTimeout: 30_000,
      browser: {
        enabled: true,
        headless: true,
        provider: playwright({
          launchOptions: {
            executablePath: CHROMIUM,
            args: CHROMIUM_ARGS,
          },
        }),
        instances: [{ browser: 'chromium' }],
      },
    },
  });
} else {
  // Vitest loads this file once per project: say it once.
  const said = Symbol.for('page-lock.no-chromium-notice');
  const holder = globalThis as { [said]?: boolean };
  if (!holder[said]) {
    holder[said] = true;
    console.log(
      `[page-lock] Skipping the storybook tests: no Chromium at ${CHROMIUM} (install it with: apt-get install -y chromium)`,
    );
  }
}

// The package's public entries, resolved to their source: the demo's route modules and the
// README's save snippet import `page-lock/server` as users do, and run in-process without a build.
const sourceEntry = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const packageEntries = [
  { find: /^page-lock\/server$/, replacement: sourceEntry('./server-adapter/index.ts') },
  { find: /^page-lock\/next$/, replacement: sourceEntry('./server-adapter/next/index.ts') },
  { find: /^page-lock\/sqlite$/, replacement: sourceEntry('./server-adapter/sqlite/index.ts') },
  { find: /^page-lock\/core$/, replacement: sourceEntry('./src/core/index.ts') },
  { find: /^page-lock\/memory$/, replacement: sourceEntry('./src/memory/index.ts') },
  { find: /^page-lock\/node$/, replacement: sourceEntry('./server-adapter/node/index.ts') },
];

// The Redis and Postgres tests skip themselves without their server's URL: say how to run them,
// once per run (a skipped test's name alone is not shown by the default reporter).
const services = [
  ['PAGE_LOCK_REDIS_URL', 'redis://127.0.0.1:6379', 'Redis'],
  ['PAGE_LOCK_POSTGRES_URL', 'postgres://postgres@127.0.0.1:5432/test', 'Postgres'],
] as const;
const serviceNotice = Symbol.for('page-lock.service-notice');
const noticeHolder = globalThis as { [serviceNotice]?: boolean };
if (!noticeHolder[serviceNotice]) {
  noticeHolder[serviceNotice] = true;
  for (const [variable, example, name] of services) {
    if (!process.env[variable]) {
      console.log(
        `[page-lock] Skipping the ${name} store tests: set ${variable}=${example} to run them`,
      );
    }
  }
}

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/**/*.test.ts'],
          exclude: [
            'test/react/**',
            'test/e2e/**',
            'test/docs/**',
            'test/demo/**',
            'test/frameworks/**',
            'test/quick-start/**',
          ],
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'dom',
          environment: 'jsdom',
          include: ['test/react/**/*.test.{ts,tsx}'],
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        // The README's quick start, built with `next build` from the built package and driven in
        // Chromium (it builds `dist/` itself when stale).
        extends: true,
        test: {
          name: 'quick-start',
          environment: 'node',
          include: ['test/quick-start/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 150_000,
        },
      },
      {
        extends: true,
        resolve: { alias: packageEntries },
        test: {
          name: 'demo',
          environment: 'node',
          include: [
            'test/docs/**/*.test.ts',
            'test/demo/**/*.test.ts',
            'test/frameworks/**/*.test.ts',
          ],
          testTimeout: 30_000,
        },
      },
      ...storybookProjects,
    ],
  },
});
