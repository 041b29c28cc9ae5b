import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isChromiumInstalled, launchChromium } from './support/chromium';
import { type DemoServer, E2E_POLL_MS, startDemoServer } from './support/demo-server';
import { openEditor, signIn, waitForLockStatus } from './support/demo-users';

describe.skipIf(!isChromiumInstalled())('the page list', () => {
  let server: DemoServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [server, browser] = await Promise.all([startDemoServer(), launchChromium()]);
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows who is editing which page, live, as locks come and go', async () => {
    const alice = await signIn(browser, server, 'Alice');
    const bob = await signIn(browser, server, 'Bob');
    contexts.push(alice, bob);
    const list = await bob.newPage();
    await list.goto(`${server.url}/pages`);
    await list.getByTestId('page-row-3').waitFor();
    expect(await list.locator('[data-testid^="lock-badge-"]').count()).toBe(0);

    const alicePage = await openEditor(alice, server, 2);
    await waitForLockStatus(alicePage, 'held');
    const badge = list.getByTestId('lock-badge-2');
    await badge.waitFor({ timeout: E2E_POLL_MS + 3_000 });
    expect(await badge.textContent()).toBe('Alice is editing');
    expect(await list.locator('[data-testid^="lock-badge-"]').count()).toBe(1);

    await alicePage.close({ runBeforeUnload: true });
    await badge.waitFor({ state: 'detached', timeout: E2E_POLL_MS + 3_000 });
    expect(await list.locator('[data-testid^="lock-badge-"]').count()).toBe(0);
  });
});
