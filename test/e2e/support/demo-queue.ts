import type { BrowserContext, Locator, Page } from 'playwright-core';
import { type DemoSite, serverLockStatus } from './demo-users';

/** Long enough for a loaded 2-core runner: what must appear within a push or a poll or two. */
export const APPEARS_WITHIN_MS = 15_000;

/** The blocked editor's panel: who holds the page, "Ask to edit", the place in line. */
export function blockedPanel(page: Page): Locator {
  return page.locator('.page-lock-overlay__panel');
}

/** Asks the holder for the page from a blocked editor, with a note when given. */
export async function askToEdit(page: Page, holder: string, note?: string): Promise<void> {
  const panel = blockedPanel(page);
  const ask = panel.getByRole('button', { name: 'Ask to edit' });
  await ask.waitFor({ timeout: APPEARS_WITHIN_MS });
  if (note !== undefined) await panel.getByLabel(`Note for ${holder} (optional)`).fill(note);
  await ask.click();
}

/** Waits until the blocked editor's panel says `text` ("You are next", "2nd in line", …). */
export async function waitForPanelText(page: Page, text: string): Promise<void> {
  await blockedPanel(page).getByText(text, { exact: true }).waitFor({ timeout: APPEARS_WITHIN_MS });
}

/** The holder's prompt when `asker` asks: a labelled region, "Bob asks to edit this page". */
export function holderPrompt(page: Page, asker: string): Locator {
  return page.getByRole('region', { name: `${asker} asks to edit this page` });
}

/** The holder's idle warning: a labelled region, "Are you still editing?". */
export function idleWarning(page: Page): Locator {
  return page.getByRole('region', { name: 'Are you still editing?' });
}

/** The editor's body field. */
export function bodyField(page: Page): Locator {
  return page.locator('textarea[name="body"]');
}

/**
 * Waits until this tab holds the page and its body can be typed into (not inert, not read-only)
 * and shows `text`; resolves with when that was, on the browser's clock (epoch ms), checked every
 * 10 ms.
 */
export async function editableWithText(page: Page, text: string, timeout = APPEARS_WITHIN_MS) {
  const handle = await page.waitForFunction(
    (expected) => {
      const body = document.querySelector<HTMLTextAreaElement>('textarea[name="body"]');
      const status = document.querySelector('[data-testid="lock-status"]');
      if (!body || body.closest('[inert]') || body.readOnly || body.disabled) return false;
      if (status?.getAttribute('data-status') !== 'held' || body.value !== expected) return false;
      return performance.timeOrigin + performance.now();
    },
    text,
    { polling: 10, timeout },
  );
  return (await handle.jsonValue()) as number;
}

/**
 * Remembers, on the browser's clock (epoch ms), the moment of the next click on the button named
 * `name` in this page: what a hand-over is measured from.
 */
export async function recordClick(page: Page, name: string): Promise<() => Promise<number>> {
  await page.evaluate((label) => {
    const seen = window as { pageLockClickAt?: number };
    seen.pageLockClickAt = undefined;
    document.addEventListener(
      'click',
      (event) => {
        const button = (event.target as Element | null)?.closest('button');
        if (button?.textContent?.trim() === label && seen.pageLockClickAt === undefined) {
          seen.pageLockClickAt = performance.timeOrigin + event.timeStamp;
        }
      },
      { capture: true },
    );
  }, name);
  return async () => {
    const at = await page.evaluate(() => (window as { pageLockClickAt?: number }).pageLockClickAt);
    if (at === undefined) throw new Error(`[page-lock] [e2e] "${name}" was not clicked`);
    return at;
  };
}

/**
 * Watches who holds a resource, as the server says to `context`'s session, every 100 ms until
 * stopped: the holders in the order they came (each once in a row; `null` while free).
 */
export function watchHolders(context: BrowserContext, server: DemoSite, resourceId: string) {
  const holders: (string | null)[] = [];
  let running = true;
  const look = async () => {
    const { lock } = await serverLockStatus(context, server, resourceId);
    const holder = lock?.holder.name ?? null;
    if (holders.length === 0 || holders.at(-1) !== holder) holders.push(holder);
  };
  const done = (async () => {
    while (running) {
      await look();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    /**
     * Stops watching; resolves with the holders seen, the current one included (one last look:
     * on a busy machine the loop's previous look may predate the change just awaited).
     */
    async stop(): Promise<(string | null)[]> {
      running = false;
      await done;
      await look();
      return holders;
    },
  };
}

/** Waits until the server counts `count` tabs in line for the resource; resolves with when. */
export async function waitForWaiting(
  context: BrowserContext,
  server: DemoSite,
  resourceId: string,
  count: number,
  timeout = APPEARS_WITHIN_MS,
): Promise<number> {
  const deadline = Date.now() + timeout;
  let seen: number | undefined;
  while (Date.now() < deadline) {
    seen = (await serverLockStatus(context, server, resourceId)).waiting ?? 0;
    if (seen === count) return Date.now();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `[page-lock] [e2e] ${resourceId}: expected ${count} waiting, the server still says ${seen}`,
  );
}

/** Waits until nobody holds the resource (and nobody waits for it). */
export async function waitUntilFree(
  context: BrowserContext,
  server: DemoSite,
  resourceId: string,
  timeout = APPEARS_WITHIN_MS,
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if ((await serverLockStatus(context, server, resourceId)).status === 'free') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`[page-lock] [e2e] ${resourceId} stayed locked`);
}
