import type { BrowserContext, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isChromiumInstalled } from './support/chromium';
import { useDemoSession } from './support/demo-session';
import { type DemoSite, serverLockStatus, waitForLockStatus } from './support/demo-users';
import { type ForwardingProxy, rawRequest, startForwardingProxy } from './support/forwarding-proxy';

/**
 * Issue 9, item 1: the demo works wherever it is opened, not only at `localhost`. Without
 * `trustProxy`, the lock routes compare a browser's `Sec-Fetch-Site` (or else `Origin` with the
 * `Host` header), never `request.url`, which `next start` always builds from `localhost`.
 */
describe.skipIf(!isChromiumInstalled())('the demo at every host', () => {
  const demo = useDemoSession();
  let proxy: ForwardingProxy | undefined;

  beforeAll(async () => {
    proxy = await startForwardingProxy(demo.server.url);
  });
  afterAll(async () => {
    await proxy?.close();
  });

  /** Opens page `pageId` at `site`, waits for the lock, edits and saves, then leaves the page. */
  async function acquireAndSave(context: BrowserContext, site: DemoSite, pageId: number) {
    const before = (await (
      await context.request.get(`${site.url}/api/pages/${pageId}`)
    ).json()) as {
      version: number;
    };
    const lockAnswers: Response[] = [];
    const page = await context.newPage();
    page.on('response', (response) => {
      if (new URL(response.url()).pathname.startsWith('/api/locks')) lockAnswers.push(response);
    });
    await page.goto(`${site.url}/pages/${pageId}`);
    await waitForLockStatus(page, 'held');
    const text = `Saved at ${site.url}`;
    await page.locator('textarea[name="body"]').fill(text);
    const saved = page.waitForResponse((response) =>
      response.url().endsWith(`/api/pages/${pageId}`),
    );
    await page.getByRole('button', { name: 'Save' }).click();
    expect((await saved).status()).toBe(200);
    expect(await page.getByTestId('save-message').textContent()).toMatch(/^Saved at/);

    const stored = await context.request.get(`${site.url}/api/pages/${pageId}`);
    expect(await stored.json()).toMatchObject({
      id: pageId,
      body: text,
      version: before.version + 1,
    });
    // A refused lock request (403 cross-site) would have shown as an error, not as `held`.
    expect(lockAnswers.filter((answer) => answer.status() >= 400).map((a) => a.url())).toEqual([]);

    // Leaving releases the page (the pagehide beacon): wait for it, so the next test finds it free.
    await page.close({ runBeforeUnload: true });
    await expect
      .poll(async () => (await serverLockStatus(context, site, `page:${pageId}`)).status, {
        timeout: 5_000,
      })
      .toBe('free');
  }

  it.each([
    ['127.0.0.1', 1],
    ['[::1]', 2],
    ['localhost', 3],
  ])('acquires and saves at http://%s:PORT', async (host, pageId) => {
    const site = { url: demo.server.urlAt(host) };
    const alice = await demo.as('Alice', site);
    await acquireAndSave(alice, site, pageId);
  });

  it('acquires and saves behind a proxy that sets X-Forwarded-Host (no trustProxy)', async () => {
    const site = proxy as ForwardingProxy;
    const bob = await demo.as('Bob', site);
    await acquireAndSave(bob, site, 1);
    // What let the browser's lock requests through: Chromium says they are same-origin.
    const lockPosts = site.seen.filter(
      (request) => request.method === 'POST' && request.path.startsWith('/api/locks/'),
    );
    expect(lockPosts.length).toBeGreaterThan(0);
    for (const request of lockPosts) {
      expect(request.headers['sec-fetch-site']).toBe('same-origin');
    }
  });

  it.each(['127.0.0.1', '[::1]', 'localhost'])(
    'admits a program’s request at http://%s whose Origin matches its Host',
    async (host) => {
      const url = demo.server.urlAt(host);
      const headers = {
        Origin: url,
        Cookie: 'page-lock-demo-user=carol',
        'Content-Type': 'application/json',
      };
      const acquired = await rawRequest(`${url}/api/locks/${encodeURIComponent('page:3')}`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ clientId: crypto.randomUUID() }),
      });
      expect(acquired.status, JSON.stringify(acquired.body)).toBe(200);
      const { token } = acquired.body as { token: string };
      const page = await rawRequest(`${url}/api/pages/3`, { method: 'GET', headers });
      const { version } = page.body as { version: number };
      const saved = await rawRequest(`${url}/api/pages/3`, {
        method: 'PUT',
        headers: { ...headers, 'Page-Lock-Token': token },
        body: JSON.stringify({ title: 'Pricing', body: `Saved by a program at ${host}`, version }),
      });
      expect(saved.status, JSON.stringify(saved.body)).toBe(200);
      expect(saved.body).toMatchObject({ version: version + 1 });
      const released = await rawRequest(
        `${url}/api/locks/${encodeURIComponent('page:3')}/release`,
        { method: 'POST', headers, body: JSON.stringify({ token }) },
      );
      expect(released.status).toBe(204);
    },
  );

  it('refuses a program’s request through the proxy whose Origin matches only X-Forwarded-Host, naming it', async () => {
    // Without `trustProxy`, forwarded headers do not count: the demo sees Host = its own address.
    const site = proxy as ForwardingProxy;
    const refused = await rawRequest(`${site.url}/api/locks/${encodeURIComponent('page:2')}`, {
      method: 'POST',
      headers: {
        Origin: site.url,
        Cookie: 'page-lock-demo-user=carol',
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ clientId: crypto.randomUUID() }),
    });
    expect(refused.status).toBe(403);
    const { error } = refused.body as { error: { code: string; message: string } };
    expect(error.message).toContain(site.url);
  });
});
