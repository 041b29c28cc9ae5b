import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { launchChromium } from './chromium';
import { type DemoServer, type DemoServerOptions, startDemoServer } from './demo-server';
import { type DemoSite, type DemoUserName, signIn } from './demo-users';

/** One built demo and one Chromium for a test file; each user is a browser context of its own. */
export interface DemoSession {
  readonly server: DemoServer;
  readonly browser: Browser;
  /**
   * A signed-in browser context (its own cookies: its own user), closed after each test. Signed
   * in at `site` (default: the server at 127.0.0.1): cookies belong to one host.
   */
  as(name: DemoUserName, site?: DemoSite): Promise<BrowserContext>;
}

/** Registers the hooks that start the demo and Chromium for the enclosing `describe`. */
export function useDemoSession(options: DemoServerOptions = {}): DemoSession {
  let server: DemoServer | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const started = <T>(value: T | undefined, what: string): T => {
    if (!value) throw new Error(`[page-lock] [e2e] The ${what} has not started`);
    return value;
  };

  beforeAll(async () => {
    [server, browser] = await Promise.all([startDemoServer(options), launchChromium()]);
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  return {
    get server() {
      return started(server, 'demo server');
    },
    get browser() {
      return started(browser, 'browser');
    },
    async as(name, site) {
      const context = await signIn(this.browser, site ?? this.server, name);
      contexts.push(context);
      return context;
    },
  };
}
