import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { isChromiumInstalled } from './support/chromium';
import {
  APPEARS_WITHIN_MS,
  askToEdit,
  blockedPanel,
  bodyField,
  editableWithText,
  holderPrompt,
  idleWarning,
  recordClick,
  waitForPanelText,
  waitForWaiting,
  waitUntilFree,
  watchHolders,
} from './support/demo-queue';
import { E2E_POLL_MS, E2E_TTL_MS } from './support/demo-server';
import { useDemoSession } from './support/demo-session';
import {
  type DemoUserName,
  openEditor,
  serverLockStatus,
  waitForLockStatus,
} from './support/demo-users';

/** Issue 12: once Alice hands over, Bob can type within a second. */
const HAND_OVER_WITHIN_MS = 1_000;
const HAND_OVER_RUNS = 5;
/** The shortened idle release of the idle tests: 3 s without input, then a 3 s warning. */
const IDLE_MS = 3_000;
const IDLE_WARNING_MS = 3_000;
/** Several people's tabs each: generous on a loaded 2-core runner (the project's default is 60 s). */
const MANY_TABS_TIMEOUT_MS = 120_000;
const SCREENSHOT_DIR = path.join(import.meta.dirname, '__screenshots__');

/** What a person sees, for the eye (git-ignored): `__screenshots__/ask-to-edit-{name}.png`. */
async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `ask-to-edit-${name}.png`) });
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/** The heading of the panel over an editor: who holds it, or why it was lost. */
async function panelHeading(page: Page): Promise<string> {
  const heading = blockedPanel(page).getByRole('heading');
  await heading.waitFor({ timeout: APPEARS_WITHIN_MS });
  return (await heading.textContent()) ?? '';
}

/** Opens the editor of a page someone else holds, asks for it, and waits for its place. */
async function openAndAsk(
  context: BrowserContext,
  server: { url: string },
  pageId: number,
  place: string,
  note?: string,
): Promise<Page> {
  const page = await openEditor(context, server, pageId);
  await waitForLockStatus(page, 'locked', APPEARS_WITHIN_MS);
  await askToEdit(page, 'Alice', note);
  await waitForPanelText(page, place);
  return page;
}

/** Closes a tab the way a person does: `pagehide` runs, so a held page is released. */
const closeTab = (page: Page) => page.close({ runBeforeUnload: true });

describe.skipIf(!isChromiumInstalled())('ask to edit, on the demo with SQLite', () => {
  const demo = useDemoSession();
  const as = (name: DemoUserName) => demo.as(name);

  it(
    'hands the page to Bob when Alice says "Hand over": Bob can type within 1 s, on her text',
    async () => {
      const alice = await as('Alice');
      const bob = await as('Bob');
      const figures: number[] = [];
      for (let run = 1; run <= HAND_OVER_RUNS; run++) {
        const alicePage = await openEditor(alice, demo.server, 1);
        await waitForLockStatus(alicePage, 'held', APPEARS_WITHIN_MS);
        // Typed, never saved by Alice herself: only onHandOver can bring it to Bob.
        const aliceText = `Home, as Alice left it in run ${run} (${Date.now()})`;
        await bodyField(alicePage).fill(aliceText);

        const bobPage = await openAndAsk(bob, demo.server, 1, 'You are next', 'May I fix a typo?');
        await waitForPanelText(bobPage, 'Waiting for Alice to answer');

        // Alice is asked beside her editor, which stays hers to type in.
        const prompt = holderPrompt(alicePage, 'Bob');
        await prompt.waitFor({ timeout: APPEARS_WITHIN_MS });
        expect(await prompt.textContent()).toContain('“May I fix a typo?”');
        await waitForLockStatus(alicePage, 'held');
        if (run === 1) {
          await screenshot(bobPage, 'bob-in-line');
          await screenshot(alicePage, 'alice-asked');
        }

        const clickedAt = await recordClick(alicePage, 'Hand over');
        const bobCanType = editableWithText(bobPage, aliceText);
        await prompt.getByRole('button', { name: 'Hand over' }).click();
        // Both on the browsers' clocks: from Alice's click to Bob's editor, his, showing her text.
        figures.push(Math.round((await bobCanType) - (await clickedAt())));

        await waitForLockStatus(alicePage, 'lost', APPEARS_WITHIN_MS);
        expect(await panelHeading(alicePage)).toContain('You handed this page to Bob');
        expect((await serverLockStatus(bob, demo.server, 'page:1')).lock?.holder.name).toBe('Bob');

        // Bob really can type, and save: his editor has the version Alice's text was saved as.
        const bobBody = bodyField(bobPage);
        await bobBody.press('End');
        await bobBody.pressSequentially(' Bob was here.');
        expect(await bobBody.inputValue()).toBe(`${aliceText} Bob was here.`);
        await bobPage.getByRole('button', { name: 'Save' }).click();
        const saved = bobPage.getByTestId('save-message');
        await saved.waitFor({ timeout: APPEARS_WITHIN_MS });
        expect(await saved.textContent()).toMatch(/^Saved at/);

        await closeTab(bobPage);
        await closeTab(alicePage);
        await waitUntilFree(bob, demo.server, 'page:1');
      }
      console.log(
        `[page-lock] [e2e] Alice's "Hand over" click → Bob can type, on her text, ms: ${figures.join(', ')} (median ${median(figures)}, max ${Math.max(...figures)})`,
      );
      for (const figure of figures) expect(figure).toBeLessThan(HAND_OVER_WITHIN_MS);
    },
    HAND_OVER_RUNS * 30_000,
  );

  it('tells Bob "Alice is still editing" when she says "Keep editing", and she keeps the page', async () => {
    const alice = await as('Alice');
    const bob = await as('Bob');
    const alicePage = await openEditor(alice, demo.server, 2);
    await waitForLockStatus(alicePage, 'held', APPEARS_WITHIN_MS);
    const bobPage = await openAndAsk(bob, demo.server, 2, 'You are next');

    const prompt = holderPrompt(alicePage, 'Bob');
    await prompt.waitFor({ timeout: APPEARS_WITHIN_MS });
    const declinedAt = Date.now();
    await prompt.getByRole('button', { name: 'Keep editing' }).click();
    await waitForPanelText(bobPage, 'Alice is still editing');
    console.log(
      `[page-lock] [e2e] Alice's "Keep editing" → Bob told: ${Date.now() - declinedAt} ms`,
    );

    // Bob keeps his place and may ask again; Alice is no longer asked, and still edits.
    await waitForPanelText(bobPage, 'You are next');
    expect(await blockedPanel(bobPage).getByRole('button', { name: 'Ask again' }).count()).toBe(1);
    await prompt.waitFor({ state: 'detached', timeout: APPEARS_WITHIN_MS });
    await waitForLockStatus(alicePage, 'held');
    await waitForLockStatus(bobPage, 'locked');
    const status = await serverLockStatus(bob, demo.server, 'page:2');
    expect(status.lock?.holder.name).toBe('Alice');
    expect(status.waiting).toBe(1);

    // Leaving the line ends his place at once.
    await blockedPanel(bobPage).getByRole('button', { name: 'Leave the line' }).click();
    await waitForWaiting(bob, demo.server, 'page:2', 0);

    await closeTab(bobPage);
    await closeTab(alicePage);
    await waitUntilFree(alice, demo.server, 'page:2');
  });

  it(
    'gives the page to Bob, Carol and Dan in the order they asked, as each closes their tab',
    async () => {
      const alice = await as('Alice');
      const bob = await as('Bob');
      const carol = await as('Carol');
      const dan = await as('Dan');
      const alicePage = await openEditor(alice, demo.server, 3);
      await waitForLockStatus(alicePage, 'held', APPEARS_WITHIN_MS);
      const holders = watchHolders(alice, demo.server, 'page:3');

      // One after the other, each once the one before has its place: the order is theirs.
      const bobPage = await openAndAsk(bob, demo.server, 3, 'You are next');
      const carolPage = await openAndAsk(carol, demo.server, 3, '2nd in line');
      const danPage = await openAndAsk(dan, demo.server, 3, '3rd in line');
      expect((await serverLockStatus(alice, demo.server, 'page:3')).waiting).toBe(3);
      const prompt = holderPrompt(alicePage, 'Bob');
      await prompt.waitFor({ timeout: APPEARS_WITHIN_MS });
      await prompt
        .getByText('Bob, Carol and Dan are waiting')
        .waitFor({ timeout: APPEARS_WITHIN_MS });

      const passes: string[] = [];
      const passOn = async (from: Page, to: Page, name: string) => {
        const closedAt = Date.now();
        await closeTab(from);
        await waitForLockStatus(to, 'held', APPEARS_WITHIN_MS);
        passes.push(`${name} ${Date.now() - closedAt}`);
      };

      await passOn(alicePage, bobPage, 'Bob');
      await waitForPanelText(carolPage, 'You are next');
      await waitForPanelText(danPage, '2nd in line');
      await waitForLockStatus(carolPage, 'locked');
      await waitForLockStatus(danPage, 'locked');

      await passOn(bobPage, carolPage, 'Carol');
      await waitForPanelText(danPage, 'You are next');
      await waitForLockStatus(danPage, 'locked');

      await passOn(carolPage, danPage, 'Dan');
      expect(await holders.stop()).toEqual(['Alice', 'Bob', 'Carol', 'Dan']);
      console.log(
        `[page-lock] [e2e] the page passed on after a tab closed, ms: ${passes.join(', ')}`,
      );

      await closeTab(danPage);
      await waitUntilFree(dan, demo.server, 'page:3');
    },
    MANY_TABS_TIMEOUT_MS,
  );

  it(
    'never gives the page to Bob once he asked and closed his tab: Carol, who asked after, gets it',
    async () => {
      const alice = await as('Alice');
      const bob = await as('Bob');
      const carol = await as('Carol');
      const alicePage = await openEditor(alice, demo.server, 2);
      await waitForLockStatus(alicePage, 'held', APPEARS_WITHIN_MS);
      // Watched with Bob's own session.
      const holders = watchHolders(bob, demo.server, 'page:2');

      const bobPage = await openAndAsk(bob, demo.server, 2, 'You are next');
      await waitForWaiting(bob, demo.server, 'page:2', 1);
      const closedAt = Date.now();
      await closeTab(bobPage);
      // His tab left the line as it closed: well before his place could run out with its lease
      // (at least 4 s after its last renewal).
      const leftAfter = (await waitForWaiting(bob, demo.server, 'page:2', 0)) - closedAt;
      console.log(`[page-lock] [e2e] a closed tab left the line after ${leftAfter} ms`);
      expect(leftAfter).toBeLessThan(3_000);

      // Carol, asking after him, is next: his place is gone.
      const carolPage = await openAndAsk(carol, demo.server, 2, 'You are next');
      await closeTab(alicePage);
      await waitForLockStatus(carolPage, 'held', APPEARS_WITHIN_MS);
      expect(await holders.stop()).toEqual(['Alice', 'Carol']);

      // What Bob's browser is told: Carol is editing.
      const list = await bob.newPage();
      await list.goto(`${demo.server.url}/pages`);
      const badge = list.getByTestId('lock-badge-2');
      await badge.waitFor({ timeout: APPEARS_WITHIN_MS });
      expect(await badge.textContent()).toBe('Carol is editing');

      await closeTab(carolPage);
      await waitUntilFree(carol, demo.server, 'page:2');
    },
    MANY_TABS_TIMEOUT_MS,
  );

  it(
    'never gives the page to a tab that asked and then crashed: its place ends with its lease',
    async () => {
      const alice = await as('Alice');
      const bob = await as('Bob');
      const carol = await as('Carol');
      const alicePage = await openEditor(alice, demo.server, 1);
      await waitForLockStatus(alicePage, 'held', APPEARS_WITHIN_MS);
      const holders = watchHolders(bob, demo.server, 'page:1');

      const bobPage = await openAndAsk(bob, demo.server, 1, 'You are next');
      // Open already, so Carol asks as soon as Bob's tab is gone.
      const carolPage = await openEditor(carol, demo.server, 1);
      await waitForLockStatus(carolPage, 'locked', APPEARS_WITHIN_MS);
      // A crash sends nothing (see lock-handover.test.ts): its leave is dropped, and the renderer
      // crashed, which runs no pagehide at all.
      await bobPage.route('**/api/locks/**', (route) =>
        /\/(leave|release)$/.test(new URL(route.request().url()).pathname)
          ? route.abort()
          : route.fallback(),
      );
      const devtools = await bob.newCDPSession(bobPage);
      const crashed = bobPage.waitForEvent('crash');
      devtools.send('Page.crash').catch(() => {});
      await crashed;
      const crashedAt = Date.now();
      await bobPage.close();

      // The server cannot know yet: Carol, asking now, is behind Bob's place.
      await askToEdit(carolPage, 'Alice');
      await waitForPanelText(carolPage, '2nd in line');
      // Until his place runs out with its lease; then Carol is next, and Alice leaves.
      const goneAfter = (await waitForWaiting(bob, demo.server, 'page:1', 1)) - crashedAt;
      console.log(`[page-lock] [e2e] a crashed tab's place in line ran out after ${goneAfter} ms`);
      expect(goneAfter).toBeGreaterThanOrEqual(E2E_TTL_MS - 3 * E2E_POLL_MS);
      expect(goneAfter).toBeLessThan(E2E_TTL_MS + 5_000);
      await waitForPanelText(carolPage, 'You are next');
      await closeTab(alicePage);
      await waitForLockStatus(carolPage, 'held', APPEARS_WITHIN_MS);
      expect(await holders.stop()).toEqual(['Alice', 'Carol']);

      await closeTab(carolPage);
      await waitUntilFree(carol, demo.server, 'page:1');
    },
    MANY_TABS_TIMEOUT_MS,
  );
});

describe.skipIf(!isChromiumInstalled())('idle release, on the demo with SQLite', () => {
  const demo = useDemoSession({
    env: {
      PAGE_LOCK_IDLE_MS: String(IDLE_MS),
      PAGE_LOCK_IDLE_WARNING_MS: String(IDLE_WARNING_MS),
    },
  });
  const as = (name: DemoUserName) => demo.as(name);

  it('warns Alice after 3 s without input, then releases the page to Bob, in line, with her text', async () => {
    const alice = await as('Alice');
    const bob = await as('Bob');
    const alicePage = await openEditor(alice, demo.server, 1);
    await waitForLockStatus(alicePage, 'held', APPEARS_WITHIN_MS);
    const bobPage = await openAndAsk(bob, demo.server, 1, 'You are next');
    await holderPrompt(alicePage, 'Bob').waitFor({ timeout: APPEARS_WITHIN_MS });

    // Typing counts as still editing (answering a warning, if one showed already).
    const aliceText = `Home, as Alice left it before she went away (${Date.now()})`;
    await bodyField(alicePage).fill(aliceText);
    const typedAt = Date.now();
    await idleWarning(alicePage).waitFor({ state: 'detached' });

    const warning = idleWarning(alicePage);
    await warning.waitFor({ timeout: APPEARS_WITHIN_MS });
    const warnedAt = Date.now();
    expect(await warning.textContent()).toMatch(/This page will be released in [0-3] seconds?\./);
    await screenshot(alicePage, 'alice-idle-warning');
    expect(warnedAt - typedAt).toBeGreaterThanOrEqual(IDLE_MS - 500);

    const bobCanType = editableWithText(bobPage, aliceText);
    await waitForLockStatus(alicePage, 'lost', APPEARS_WITHIN_MS);
    const releasedAt = Date.now();
    expect(await panelHeading(alicePage)).toContain('This page was released because you were away');
    await bobCanType;
    console.log(
      `[page-lock] [e2e] idle: warned ${warnedAt - typedAt} ms after the last input, released ${releasedAt - warnedAt} ms after the warning`,
    );
    expect(releasedAt - warnedAt).toBeGreaterThanOrEqual(IDLE_WARNING_MS - 1_000);
    expect((await serverLockStatus(bob, demo.server, 'page:1')).lock?.holder.name).toBe('Bob');

    await closeTab(bobPage);
    await closeTab(alicePage);
    await waitUntilFree(bob, demo.server, 'page:1');
  });

  it('keeps the page with Alice when she answers the warning with "Keep editing"', async () => {
    const alice = await as('Alice');
    const alicePage = await openEditor(alice, demo.server, 2);
    await waitForLockStatus(alicePage, 'held', APPEARS_WITHIN_MS);
    const warning = idleWarning(alicePage);
    await warning.waitFor({ timeout: APPEARS_WITHIN_MS });
    await warning.getByRole('button', { name: 'Keep editing' }).click();
    await warning.waitFor({ state: 'detached', timeout: APPEARS_WITHIN_MS });

    // Past the warning's end: still hers, until she idles again.
    await new Promise((resolve) => setTimeout(resolve, IDLE_WARNING_MS + 500));
    await waitForLockStatus(alicePage, 'held');
    expect((await serverLockStatus(alice, demo.server, 'page:2')).lock?.holder.name).toBe('Alice');

    await closeTab(alicePage);
    await waitUntilFree(alice, demo.server, 'page:2');
  });
});
