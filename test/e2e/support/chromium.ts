import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** The system Chromium the end-to-end tests drive (browser downloads do not work here). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** The one line printed when the suite cannot run. */
export const CHROMIUM_MISSING_MESSAGE = `[page-lock] [e2e] Skipped: ${CHROMIUM_PATH} is missing; install it with \`apt-get update && apt-get install -y chromium\``;

/** Flags for Chromium here: no sandbox as root, and no background calls to a closed network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function isChromiumInstalled(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** Headless Chromium with nothing running in the background that could skew timings. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', ...CHROMIUM_ARGS],
  });
}
