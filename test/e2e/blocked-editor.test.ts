import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isChromiumInstalled } from './support/chromium';
import { useDemoSession } from './support/demo-session';
import type { DemoUserName } from './support/demo-users';
import { openEditor, serverLockStatus, waitForLockStatus } from './support/demo-users';

const SCREENSHOT_DIR = path.join(import.meta.dirname, '__screenshots__');
const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** The part of axe-core's browser API used here. */
interface AxeRunner {
  run(context: string): Promise<{ violations: { id: string; help: string }[] }>;
}

describe.skipIf(!isChromiumInstalled())('an editor someone else is editing', () => {
  const demo = useDemoSession();

  const as = (name: DemoUserName) => demo.as(name);

  it('shows Bob that Alice has been editing page 1 since when, and lets him type nothing', async () => {
    const alice = await as('Alice');
    const bob = await as('Bob');
    const alicePage = await openEditor(alice, demo.server, 1);
    await waitForLockStatus(alicePage, 'held');
    await alicePage.locator('input[name="title"]').fill('Home, as Alice left it');

    const bobPage = await openEditor(bob, demo.server, 1);
    const dialog = bobPage.locator('.page-lock-overlay__panel');
    await dialog.waitFor();
    const heading = (await dialog.getByRole('heading').textContent()) ?? '';
    const shown = heading.match(/^Alice has been editing this page since (\d{1,2}):(\d{2})/);
    expect(shown, heading).not.toBeNull();
    // The time shown is when Alice began, as the server recorded it (the browser is set to UTC).
    const { lock } = await serverLockStatus(bob, demo.server, 'page:1');
    const since = new Date(lock?.since ?? 0);
    expect([Number(shown?.[1]), Number(shown?.[2])]).toEqual([
      since.getUTCHours(),
      since.getUTCMinutes(),
    ]);
    expect(await dialog.getByRole('button', { name: 'Take over' }).count()).toBe(0);

    // Clicking where the title field is and typing reaches nothing behind the overlay.
    const title = bobPage.locator('input[name="title"]');
    expect(await title.inputValue()).toBe('Home');
    const box = await title.boundingBox();
    if (!box) throw new Error('the title field is not on screen');
    await bobPage.mouse.click(box.x + 10, box.y + box.height / 2);
    await bobPage.keyboard.type('Bob-was-here');
    // Not a modal: Tab walks the page's own links and buttons, and nothing typed reaches the
    // editor (no spaces or Enter, which would press whichever button has focus).
    for (let i = 0; i < 4; i++) await bobPage.keyboard.press('Tab');
    await bobPage.keyboard.type('and-here');
    expect(await title.inputValue()).toBe('Home');
    expect(await bobPage.locator('textarea[name="body"]').inputValue()).not.toContain('here');
    expect(await title.evaluate((input) => input.closest('[inert]') !== null)).toBe(true);
    // Blocked around the editor, not a modal: focus is out of the inert editor, never held in it.
    expect(
      await bobPage.evaluate(
        () => document.activeElement?.closest('.page-lock-overlay__content') === null,
      ),
    ).toBe(true);

    // What jsdom cannot check: the panel as Chromium renders it, contrast included.
    await bobPage.addScriptTag({ path: AXE_PATH });
    const violations = await bobPage.evaluate(async () => {
      const axe = (window as unknown as { axe: AxeRunner }).axe;
      const results = await axe.run('.page-lock-overlay__panel');
      return results.violations.map((violation) => `${violation.id}: ${violation.help}`);
    });
    expect(violations).toEqual([]);

    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await bobPage.screenshot({
      path: path.join(SCREENSHOT_DIR, 'blocked-editor.png'),
      fullPage: true,
    });
  });

  it('tells Bob that Carol took his page over, and the server refuses his save', async () => {
    const bob = await as('Bob');
    const carol = await as('Carol');
    const bobPage = await openEditor(bob, demo.server, 2);
    await waitForLockStatus(bobPage, 'held');
    await bobPage.locator('textarea[name="body"]').fill("Bob's unsaved draft");

    const carolPage = await openEditor(carol, demo.server, 2);
    const carolDialog = carolPage.locator('.page-lock-overlay__panel');
    await carolDialog.waitFor();
    expect(await carolDialog.getByRole('heading').textContent()).toMatch(/^Bob has been editing/);

    // Bob's tab loses touch with the lock routes, so it still believes it holds the page when
    // he saves: only the server's check stands between his save and Carol's page. (Cut off
    // only now: his tab keeps editing just until his lease would have run out.)
    await bobPage.route('**/api/locks/**', (route) => route.abort());
    await carolDialog.getByRole('button', { name: 'Take over' }).click();
    await waitForLockStatus(carolPage, 'held');

    const saveAnswer = bobPage.waitForResponse((response) =>
      response.url().endsWith('/api/pages/2'),
    );
    await bobPage.getByRole('button', { name: 'Save' }).click();
    expect((await saveAnswer).status()).toBe(423);
    const refusal = bobPage.getByTestId('save-message');
    expect(await refusal.textContent()).toContain('Carol is editing this page now');
    expect(await bobPage.locator('textarea[name="body"]').inputValue()).toBe("Bob's unsaved draft");

    await bobPage.unroute('**/api/locks/**');
    const bobDialog = bobPage.locator('.page-lock-overlay__panel');
    await bobDialog.waitFor();
    expect(await bobDialog.getByRole('heading').textContent()).toContain(
      'Carol took over this page',
    );
    expect(await bobPage.locator('textarea[name="body"]').inputValue()).toBe("Bob's unsaved draft");

    const { lock } = await serverLockStatus(bob, demo.server, 'page:2');
    expect(lock?.holder.name).toBe('Carol');
    // Nothing of Bob's refused save reached the page: Carol, reloading, still holds the original.
    await carolPage.reload();
    await waitForLockStatus(carolPage, 'held');
    expect(await carolPage.locator('textarea[name="body"]').inputValue()).toBe(
      'We write things down, one editor at a time.',
    );
  });

  it('offers Alice "Edit here instead" when she opens page 3 in a second tab, and moves the lock', async () => {
    const alice = await as('Alice');
    const firstTab = await openEditor(alice, demo.server, 3);
    await waitForLockStatus(firstTab, 'held');

    const secondTab = await openEditor(alice, demo.server, 3);
    const dialog = secondTab.locator('.page-lock-overlay__panel');
    await dialog.waitFor();
    expect(await dialog.getByRole('heading').textContent()).toMatch(
      /^You are editing this page in another tab/,
    );
    await dialog.getByRole('button', { name: 'Edit here instead' }).click();
    await waitForLockStatus(secondTab, 'held');
    expect(await secondTab.locator('.page-lock-overlay__panel').count()).toBe(0);

    await firstTab.locator('.page-lock-overlay__panel').waitFor();
    expect(
      await firstTab.locator('[data-testid="lock-status"]').getAttribute('data-status'),
    ).not.toBe('held');
  });
});
