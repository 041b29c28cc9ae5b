import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isChromiumInstalled, launchChromium } from './support/chromium';
import { type DemoServer, type DemoServerOptions, startDemoServer } from './support/demo-server';
import {
  type DemoUserName,
  openEditor,
  serverLockStatus,
  signIn,
  waitForLockStatus,
} from './support/demo-users';

/** The demo's defaults: hand-over by polling alone would take up to a whole poll. */
const DEMO_POLL_MS = 10_000;
const DEMO_TTL_MS = 90_000;
const RUNS = 5;

const redisUrl = process.env.PAGE_LOCK_REDIS_URL;
const postgresUrl = process.env.PAGE_LOCK_POSTGRES_URL;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/** Every look (GET of one lock) a tab sends: a push-driven hand-over needs none. */
function countLooks(page: Page, resourceId: string): { readonly count: number } {
  const path = `/api/locks/${encodeURIComponent(resourceId)}`;
  const seen = { count: 0 };
  page.on('request', (request) => {
    if (request.method() === 'GET' && new URL(request.url()).pathname === path) seen.count++;
  });
  return seen;
}

async function waitUntilFree(context: BrowserContext, server: DemoServer, resourceId: string) {
  for (let i = 0; i < 100; i++) {
    if ((await serverLockStatus(context, server, resourceId)).status === 'free') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`[page-lock] [e2e] ${resourceId} stayed locked`);
}

/**
 * Alice's instance and Bob's (and Carol's) may differ: two `next start` sharing one store, each
 * user signed in at their own.
 */
function liveHandOver(label: string, instances: () => { alice: DemoServer; bob: DemoServer }) {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  const as = (name: DemoUserName, server: DemoServer) => signIn(browser, server, name);

  it(`${label}: lets Bob in as soon as Alice closes her tab, without waiting for a poll`, async () => {
    const { alice: aliceServer, bob: bobServer } = instances();
    const alice = await as('Alice', aliceServer);
    const bob = await as('Bob', bobServer);
    const times: number[] = [];
    try {
      for (let run = 0; run < RUNS; run++) {
        const alicePage = await openEditor(alice, aliceServer, 1);
        await waitForLockStatus(alicePage, 'held');
        const bobPage = await openEditor(bob, bobServer, 1);
        await waitForLockStatus(bobPage, 'locked');
        const looks = countLooks(bobPage, 'page:1');

        const reloaded = bobPage.waitForEvent('load', { timeout: DEMO_POLL_MS + 10_000 });
        const closedAt = Date.now();
        await alicePage.close({ runBeforeUnload: true });
        await reloaded;
        const looksBeforeReload = looks.count;
        await waitForLockStatus(bobPage, 'held');
        times.push(Date.now() - closedAt);
        // The news came by the stream: Bob's tab asked nothing between Alice leaving and its reload.
        expect(looksBeforeReload).toBe(0);
        expect((await serverLockStatus(bob, bobServer, 'page:1')).lock?.holder.name).toBe('Bob');
        await bobPage.close({ runBeforeUnload: true });
        await waitUntilFree(bob, bobServer, 'page:1');
      }
    } finally {
      await Promise.all([alice.close(), bob.close()]);
    }
    console.log(
      `[page-lock] [e2e] ${label}: Bob let in after Alice closed her tab, ms: ${times.join(', ')} (median ${median(times)})`,
    );
    // By polling alone the median of 5 would be about half a poll (5 s) plus the reload.
    expect(median(times)).toBeLessThan(DEMO_POLL_MS / 4);
  });

  it(`${label}: tells Bob at once, with who took over, when Carol takes his page over`, async () => {
    const { alice: carolServer, bob: bobServer } = instances();
    const bob = await as('Bob', bobServer);
    const carol = await as('Carol', carolServer);
    const times: number[] = [];
    try {
      for (let run = 0; run < RUNS; run++) {
        const bobPage = await openEditor(bob, bobServer, 2);
        await waitForLockStatus(bobPage, 'held');
        const carolPage = await openEditor(carol, carolServer, 2);
        await waitForLockStatus(carolPage, 'locked');
        const dialog = carolPage.locator('.page-lock-overlay__panel');
        await dialog.getByRole('button', { name: 'Take over' }).click();
        const tookOverAt = Date.now();
        await waitForLockStatus(bobPage, 'lost', DEMO_POLL_MS + 10_000);
        times.push(Date.now() - tookOverAt);
        await waitForLockStatus(carolPage, 'held');
        const bobDialog = bobPage.locator('.page-lock-overlay__panel');
        await bobDialog.waitFor();
        expect(await bobDialog.getByRole('heading').textContent()).toContain(
          'Carol took over this page',
        );
        await carolPage.close({ runBeforeUnload: true });
        await bobPage.close({ runBeforeUnload: true });
        await waitUntilFree(bob, bobServer, 'page:2');
      }
    } finally {
      await Promise.all([bob.close(), carol.close()]);
    }
    console.log(
      `[page-lock] [e2e] ${label}: Bob told of Carol's takeover after, ms: ${times.join(', ')} (median ${median(times)})`,
    );
    // His own refresh runs every 10 s: the median of 5 by polling alone would be about 5 s.
    expect(median(times)).toBeLessThan(DEMO_POLL_MS / 4);
  });
}

const demoTiming: DemoServerOptions = { pollMs: DEMO_POLL_MS, ttlMs: DEMO_TTL_MS };

describe.skipIf(!isChromiumInstalled())('live hand-over, one demo server on SQLite', () => {
  let server: DemoServer;
  beforeAll(async () => {
    server = await startDemoServer(demoTiming);
  });
  afterAll(async () => {
    await server?.stop();
  });
  liveHandOver('SQLite', () => ({ alice: server, bob: server }));

  it('still hands over at the next poll when the stream route is blocked', async () => {
    const browser = await launchChromium();
    try {
      const alice = await signIn(browser, server, 'Alice');
      const bob = await signIn(browser, server, 'Bob');
      const alicePage = await openEditor(alice, server, 3);
      await waitForLockStatus(alicePage, 'held');
      const bobPage = await bob.newPage();
      await bobPage.route('**/api/locks/events**', (route) => route.abort());
      await bobPage.goto(`${server.url}/pages/3`);
      await waitForLockStatus(bobPage, 'locked');
      const looks = countLooks(bobPage, 'page:3');

      const reloaded = bobPage.waitForEvent('load', { timeout: DEMO_POLL_MS + 10_000 });
      const closedAt = Date.now();
      await alicePage.close({ runBeforeUnload: true });
      await reloaded;
      await waitForLockStatus(bobPage, 'held');
      const tookMs = Date.now() - closedAt;
      console.log(`[page-lock] [e2e] hand-over with the stream blocked: ${tookMs} ms`);
      // Polling found it: at least one look, within a poll (plus the reload).
      expect(looks.count).toBeGreaterThan(0);
      expect(tookMs).toBeLessThan(DEMO_POLL_MS + 5_000);
    } finally {
      await browser.close();
    }
  });
});

/** Two `next start` on one shared store, after clearing what earlier runs left in it. */
function twoInstances(store: NonNullable<DemoServerOptions['store']>, clear: () => Promise<void>) {
  let alice: DemoServer;
  let bob: DemoServer;
  beforeAll(async () => {
    await clear();
    [alice, bob] = await Promise.all([
      startDemoServer({ ...demoTiming, store }),
      startDemoServer({ ...demoTiming, store }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([alice?.stop(), bob?.stop()]);
  });
  return () => ({ alice, bob });
}

describe.skipIf(!isChromiumInstalled() || !redisUrl)(
  'live hand-over, two demo servers sharing Redis',
  () => {
    const instances = twoInstances({ redisUrl: redisUrl ?? '' }, async () => {
      const { Redis } = await import('ioredis');
      const client = new Redis(redisUrl ?? '');
      const keys = await client.keys('page-lock-demo:*');
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    });
    liveHandOver('Redis, two instances', instances);
  },
);

describe.skipIf(!isChromiumInstalled() || !postgresUrl)(
  'live hand-over, two demo servers sharing Postgres',
  () => {
    const instances = twoInstances({ postgresUrl: postgresUrl ?? '' }, async () => {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query('DROP TABLE IF EXISTS page_lock_demo');
      await client.end();
    });
    liveHandOver('Postgres, two instances', instances);
  },
);
