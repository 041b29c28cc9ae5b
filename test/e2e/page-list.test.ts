import { describe, expect, it } from 'vitest';
import { isChromiumInstalled } from './support/chromium';
import { E2E_POLL_MS } from './support/demo-server';
import { useDemoSession } from './support/demo-session';
import { openEditor, waitForLockStatus } from './support/demo-users';

describe.skipIf(!isChromiumInstalled())('the page list', () => {
  const demo = useDemoSession();

  it('shows who is editing which page, live, as locks come and go', async () => {
    const alice = await demo.as('Alice');
    const bob = await demo.as('Bob');
    const list = await bob.newPage();
    await list.goto(`${demo.server.url}/pages`);
    await list.getByTestId('page-row-3').waitFor();
    expect(await list.locator('[data-testid^="lock-badge-"]').count()).toBe(0);

    const alicePage = await openEditor(alice, demo.server, 2);
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
