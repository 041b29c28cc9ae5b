import { CHROMIUM_MISSING_MESSAGE, isChromiumInstalled } from './support/chromium';
import { ensureDemoBuilt } from './support/demo-build';

/**
 * Once per run: without Chromium, say so in one line (the test files skip themselves); else
 * build the package and the demo when they are missing or stale. Each test file then starts the
 * built demo itself, on its own port and data folder.
 */
export default function setup(): void {
  if (!isChromiumInstalled()) {
    console.log(CHROMIUM_MISSING_MESSAGE);
    return;
  }
  ensureDemoBuilt();
}
