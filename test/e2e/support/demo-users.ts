import type { Browser, BrowserContext, Page } from 'playwright-core';

/** Where a browser reaches the demo: the server itself, or another host or a proxy in front. */
export interface DemoSite {
  readonly url: string;
}

export type DemoUserName = 'Alice' | 'Bob' | 'Carol' | 'Dan';

/**
 * A person at their own browser: a separate context has its own cookies, so its own session.
 * Times are shown in UTC with a 24-hour clock, so tests can compare them with the server's.
 */
export async function signIn(
  browser: Browser,
  server: DemoSite,
  name: DemoUserName,
): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: { width: 960, height: 640 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  const page = await context.newPage();
  await page.goto(`${server.url}/`);
  await page.getByRole('button', { name: new RegExp(`^${name}`) }).click();
  await page.waitForURL('**/pages');
  await page.close();
  return context;
}

/** Opens the editor of a page in a new tab of this browser. */
export async function openEditor(
  context: BrowserContext,
  server: DemoSite,
  pageId: number,
): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${server.url}/pages/${pageId}`);
  return page;
}

/** Waits until the editor's status line says `status` (`held`, `locked`, `lost`, …). */
export async function waitForLockStatus(page: Page, status: string, timeout = 10_000) {
  try {
    await page
      .locator(`[data-testid="lock-status"][data-status="${status}"]`)
      .waitFor({ state: 'attached', timeout });
  } catch (error) {
    const line = page.locator('[data-testid="lock-status"]');
    const seen = (await line.count())
      ? `"${await line.getAttribute('data-status')}" (${await line.textContent()})`
      : 'no status line';
    throw new Error(`[page-lock] [e2e] ${page.url()}: expected "${status}", saw ${seen}`, {
      cause: error,
    });
  }
}

/** What the server says about a resource, asked with this browser's session (no client id). */
export async function serverLockStatus(
  context: BrowserContext,
  server: DemoSite,
  resourceId: string,
): Promise<{
  status: string;
  lock?: { holder: { name: string }; since: number; fence: number };
  /** How many tabs wait in line for it (absent when none do). */
  waiting?: number;
}> {
  const response = await context.request.get(
    `${server.url}/api/locks/${encodeURIComponent(resourceId)}`,
  );
  if (!response.ok()) {
    throw new Error(`[page-lock] [e2e] GET lock status answered ${response.status()}`);
  }
  return response.json();
}
