import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLockHandler } from '../../server-adapter/handler/lock-handler';
import { LockStoreError } from '../../server-adapter/service/errors';
import { createLockService } from '../../server-adapter/service/lock-service';
import type { LockStore } from '../../server-adapter/store/lock-store';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import {
  alice,
  BASE,
  bob,
  createHarness,
  expectProtocolHeaders,
  json,
  ORIGIN,
  START,
} from './handler-harness';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('cross-site protection of state-changing requests', () => {
  const acquireWith = (h: ReturnType<typeof createHarness>, headers: Record<string, string>) =>
    h.send('POST', `${BASE}/page%3A42`, { body: { clientId: 'tab-a' }, headers });

  it('allows requests from the page’s own origin', async () => {
    const h = createHarness();
    const response = await acquireWith(h, { Origin: ORIGIN, 'Sec-Fetch-Site': 'same-origin' });
    expect(response.status).toBe(200);
  });

  it('allows requests with neither Origin nor Sec-Fetch-Site (servers, tests)', async () => {
    const h = createHarness();
    expect((await acquireWith(h, {})).status).toBe(200);
  });

  it.each([
    ['another origin', { Origin: 'https://evil.test' }],
    ['another port of the same host', { Origin: 'http://admin.test:8080' }],
    ['an opaque origin', { Origin: 'null' }],
    [
      'Sec-Fetch-Site: cross-site, even with a matching Origin',
      { Origin: ORIGIN, 'Sec-Fetch-Site': 'cross-site' },
    ],
    ['Sec-Fetch-Site: cross-site alone', { 'Sec-Fetch-Site': 'cross-site' }],
  ])('refuses %s with 403 cross-site, changing nothing', async (_, headers) => {
    const h = createHarness();
    const held = await json(await h.acquire('page:42', alice, 'tab-a'));
    const before = await h.snapshot();
    const refusals = [
      await h.send('POST', `${BASE}/page%3A42`, { as: bob, body: { clientId: 'tab-b' }, headers }),
      await h.send('POST', `${BASE}/page%3A42/takeover`, {
        body: { clientId: 'tab-b', expectedFence: 1 },
        headers,
      }),
      await h.send('POST', `${BASE}/page%3A42/release`, {
        as: null,
        raw: JSON.stringify({ token: held.token }),
        headers,
      }),
      await h.send('DELETE', `${BASE}/page%3A42`, { body: { token: held.token }, headers }),
    ];
    for (const response of refusals) {
      expect(response.status).toBe(403);
      expect((await json(response)).error.code).toBe('cross-site');
    }
    expect(await h.snapshot()).toEqual(before);
  });

  it('lets reads through whatever their origin: a GET changes nothing', async () => {
    const h = createHarness();
    const response = await h.send('GET', `${BASE}/page%3A42`, {
      headers: { Origin: 'https://evil.test', 'Sec-Fetch-Site': 'cross-site' },
    });
    expect(response.status).toBe(200);
  });

  it('allows the configured allowedOrigins, however they are written', async () => {
    const h = createHarness({
      handler: { allowedOrigins: ['https://editor.example.com/', 'HTTPS://Other.Example.com:443'] },
    });
    const fromEditor = await acquireWith(h, { Origin: 'https://editor.example.com' });
    expect(fromEditor.status).toBe(200);
    const fromOther = await h.send('POST', `${BASE}/page%3A43`, {
      body: { clientId: 'tab-a' },
      headers: { Origin: 'https://other.example.com' },
    });
    expect(fromOther.status).toBe(200);
    const fromElsewhere = await h.send('POST', `${BASE}/page%3A44`, {
      body: { clientId: 'tab-a' },
      headers: { Origin: 'https://editor.example.com.evil.test' },
    });
    expect(fromElsewhere.status).toBe(403);
  });

  it('refuses an allowedOrigins entry that is not an origin when the handler is made', () => {
    const service = createLockService({ store: createMemoryLockStore() });
    expect(() =>
      createLockHandler({
        service,
        getUser: () => alice,
        basePath: BASE,
        allowedOrigins: ['editor'],
      }),
    ).toThrow(/\[page-lock\] \[handler\].*allowedOrigins/);
  });

  describe('behind a proxy', () => {
    // The app server sees its internal address; the browser saw the public one.
    const sendBehindProxy = (
      h: ReturnType<typeof createHarness>,
      headers: Record<string, string>,
    ) =>
      h.handler(
        new Request(`http://10.0.0.5:3000${BASE}/page%3A42`, {
          method: 'POST',
          headers: { Host: '10.0.0.5:3000', Cookie: 'session=alice', ...headers },
          body: JSON.stringify({ clientId: 'tab-a' }),
        }),
      );
    const publicHeaders = {
      Origin: 'https://admin.example.com',
      'X-Forwarded-Host': 'admin.example.com',
      'X-Forwarded-Proto': 'https',
    };

    it('ignores X-Forwarded-* unless trustProxy is set (anyone can send them)', async () => {
      const h = createHarness();
      const response = await sendBehindProxy(h, publicHeaders);
      expect(response.status).toBe(403);
      expect(await h.service.list()).toEqual([]);
    });

    it('takes the own origin from X-Forwarded-Host/Proto with trustProxy', async () => {
      const h = createHarness({ handler: { trustProxy: true } });
      expect((await sendBehindProxy(h, publicHeaders)).status).toBe(200);
    });

    it('uses the first value of a proxy chain', async () => {
      const h = createHarness({ handler: { trustProxy: true } });
      const response = await sendBehindProxy(h, {
        ...publicHeaders,
        'X-Forwarded-Host': 'admin.example.com, 10.0.0.5:3000',
        'X-Forwarded-Proto': 'https, http',
      });
      expect(response.status).toBe(200);
    });

    it('still refuses an Origin that is not the forwarded one', async () => {
      const h = createHarness({ handler: { trustProxy: true } });
      const response = await sendBehindProxy(h, { ...publicHeaders, Origin: 'https://evil.test' });
      expect(response.status).toBe(403);
      expect(await h.service.list()).toEqual([]);
    });
  });
});

describe('same-origin as browsers make it possible (Sec-Fetch-Site, then Origin against Host)', () => {
  // What `next start` hands the route: request.url says localhost whatever the browser reached.
  const asNextStartSeesIt = (
    h: ReturnType<typeof createHarness>,
    headers: Record<string, string>,
    clientId = 'tab-a',
  ) =>
    h.handler(
      new Request(`http://localhost:3000${BASE}/page%3A42`, {
        method: 'POST',
        headers: { Cookie: 'session=alice', ...headers },
        body: JSON.stringify({ clientId }),
      }),
    );

  it.each([
    ['127.0.0.1', 'http://127.0.0.1:3000', '127.0.0.1:3000'],
    ['[::1]', 'http://[::1]:3000', '[::1]:3000'],
    ['a domain without a proxy', 'https://admin.example.com', 'admin.example.com'],
  ])(
    'lets the page at %s change its lock, though request.url says localhost',
    async (_, origin, host) => {
      const h = createHarness();
      const withFetchMetadata = await asNextStartSeesIt(h, {
        Host: host,
        Origin: origin,
        'Sec-Fetch-Site': 'same-origin',
      });
      expect(withFetchMetadata.status).toBe(200);
      // An older browser sends no Sec-Fetch-Site: its Origin is compared with the Host header.
      const originOnly = await asNextStartSeesIt(h, { Host: host, Origin: origin }, 'tab-b');
      expect(originOnly.status).toBe(423);
    },
  );

  it('lets Sec-Fetch-Site: same-origin decide even when Origin and Host disagree', async () => {
    const h = createHarness();
    const response = await asNextStartSeesIt(h, {
      Host: 'internal:3000',
      Origin: 'https://admin.example.com',
      'Sec-Fetch-Site': 'same-origin',
    });
    expect(response.status).toBe(200);
  });

  it('refuses Sec-Fetch-Site: same-site unless its Origin is allowed', async () => {
    const headers = {
      Host: 'admin.example.com',
      Origin: 'https://blog.example.com',
      'Sec-Fetch-Site': 'same-site',
    };
    const refused = await asNextStartSeesIt(createHarness(), headers);
    expect(refused.status).toBe(403);
    const allowed = createHarness({ handler: { allowedOrigins: ['https://blog.example.com'] } });
    expect((await asNextStartSeesIt(allowed, headers)).status).toBe(200);
  });

  it('names the origin it saw and the option that admits it', async () => {
    const h = createHarness();
    const response = await asNextStartSeesIt(h, {
      Host: 'admin.example.com',
      Origin: 'https://evil.test',
    });
    expect(response.status).toBe(403);
    const { error } = await json(response);
    expect(error.code).toBe('cross-site');
    expect(error.message).toContain('https://evil.test');
    expect(error.message).toContain('admin.example.com');
    expect(error.message).toContain('allowedOrigins');
    expect(error.message).toContain('trustProxy');
    const crossSite = await json(
      await asNextStartSeesIt(h, { Origin: 'https://evil.test', 'Sec-Fetch-Site': 'cross-site' }),
    );
    expect(crossSite.error.message).toMatch(/https:\/\/evil\.test.*cross-site.*allowedOrigins/);
  });

  it('never takes an Origin with user info for the own origin', async () => {
    const h = createHarness();
    const response = await asNextStartSeesIt(h, {
      Host: 'admin.example.com',
      Origin: 'https://evil@admin.example.com',
    });
    expect(response.status).toBe(403);
    expect(await h.service.list()).toEqual([]);
  });
});

describe('the session: getUser', () => {
  it.each([
    ['acquire', 'POST', `${BASE}/page%3A42`, { clientId: 'tab-a' }],
    ['takeover', 'POST', `${BASE}/page%3A42/takeover`, { clientId: 'tab-a', expectedFence: 1 }],
    ['status', 'GET', `${BASE}/page%3A42?clientId=tab-a`, undefined],
    ['batch status', 'GET', `${BASE}?ids=page%3A42`, undefined],
  ])('answers 401 to a signed-out %s, changing nothing', async (_, method, path, body) => {
    const h = createHarness();
    await h.acquire('page:42', alice, 'tab-a');
    const before = await h.snapshot();
    const response = await h.send(method, path, { as: null, body });
    expect(response.status).toBe(401);
    expect(await json(response)).toEqual({
      error: { code: 'unauthorized', message: expect.any(String) },
      now: START,
    });
    expect(await h.snapshot()).toEqual(before);
  });

  it('never takes the user from the body', async () => {
    const h = createHarness();
    const body = await json(
      await h.send('POST', `${BASE}/page%3A42`, {
        as: bob,
        body: { clientId: 'tab-b', user: alice, holder: alice },
      }),
    );
    expect(body.lock.holder).toEqual(bob);
  });

  it('answers 500 when getUser throws, and reports the error to onError', async () => {
    const sessionFailure = new Error('session backend down: redis://:hunter2@10.0.0.9');
    const h = createHarness({
      handler: {
        getUser: () => {
          throw sessionFailure;
        },
      },
    });
    const response = await h.acquire('page:42', alice, 'tab-a');
    expect(response.status).toBe(500);
    expect(await response.clone().text()).not.toContain('hunter2');
    expect((await json(response)).error.code).toBe('store-error');
    expect(h.errors).toEqual([sessionFailure]);
    expect(await h.service.list()).toEqual([]);
  });

  it('treats a getUser that returns something other than a user as the server’s bug: 500', async () => {
    const h = createHarness({
      handler: { getUser: () => ({ id: 42, name: 'Alice' }) as never },
    });
    expect((await h.acquire('page:42', alice, 'tab-a')).status).toBe(500);
    expect(String(h.errors[0])).toMatch(/getUser\(\) must return/);
    expect(await h.service.list()).toEqual([]);
  });
});

/** The memory store with every method failing the way a real driver would, secrets and all. */
function brokenStore(): LockStore {
  const fail = async (): Promise<never> => {
    throw new Error('SQLITE_BUSY: database is locked (/srv/app/secret-locks.db)');
  };
  return {
    acquire: fail,
    release: fail,
    takeOver: fail,
    check: fail,
    get: fail,
    getMany: fail,
    list: fail,
    forceRelease: fail,
  };
}

describe('a store that fails', () => {
  it.each([
    ['acquire', 'POST', `${BASE}/page%3A42`, { clientId: 'tab-a' }],
    ['refresh', 'POST', `${BASE}/page%3A42`, { clientId: 'tab-a', token: 'a-token' }],
    ['takeover', 'POST', `${BASE}/page%3A42/takeover`, { clientId: 'tab-a', expectedFence: 0 }],
    ['release', 'POST', `${BASE}/page%3A42/release`, { token: 'a-token' }],
    ['status', 'GET', `${BASE}/page%3A42`, undefined],
    ['batch status', 'GET', `${BASE}?ids=page%3A42`, undefined],
  ])(
    'answers %s with 500, a body that leaks nothing and no grant',
    async (_, method, path, body) => {
      const store = brokenStore();
      const h = createHarness({ store });
      const response = await h.send(method, path, { body });
      expect(response.status).toBe(500);
      const text = await response.clone().text();
      expect(text).not.toMatch(/SQLITE|secret|srv|stack|token/i);
      expect(await json(response)).toEqual({
        error: {
          code: 'store-error',
          message: '[page-lock] The lock server failed; nothing was granted',
        },
        now: START,
      });
      expect(h.errors).toHaveLength(1);
      expect(h.errors[0]).toBeInstanceOf(LockStoreError);
      expect((h.errors[0] as Error).cause).toBeInstanceOf(Error);
      expect(h.events).toEqual([]);
    },
  );

  it('logs the real error with console.error when no onError is given', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const service = createLockService({ store: brokenStore() });
    const handler = createLockHandler({ service, getUser: () => alice, basePath: BASE });
    const response = await handler(
      new Request(`${ORIGIN}${BASE}/page%3A42`, { method: 'POST', body: '{"clientId":"tab-a"}' }),
    );
    expect(response.status).toBe(500);
    expect(logged).toHaveBeenCalledWith(
      expect.stringContaining('[page-lock]'),
      expect.any(LockStoreError),
    );
  });
});

describe('headers', () => {
  it('puts no-store and Page-Lock-Version on every kind of answer, 204s included', async () => {
    const h = createHarness();
    const statuses: number[] = [];
    const check = async (response: Response) => {
      expectProtocolHeaders(response);
      statuses.push(response.status);
      return response;
    };
    const held = await json(await check(await h.acquire('page:42', alice, 'tab-a')));
    await check(await h.acquire('page:42', bob, 'tab-b'));
    await check(
      await h.send('POST', `${BASE}/page%3A42/takeover`, {
        as: bob,
        body: { clientId: 'tab-b', expectedFence: 1 },
      }),
    );
    await check(await h.beaconRelease('page:42', 'someone-elses'));
    await check(await h.beaconRelease('page:42', held.token));
    await check(await h.acquire('page:42', alice, 'tab-a', held.token));
    await check(await h.send('GET', `${BASE}/page%3A42`));
    await check(await h.send('GET', `${BASE}?ids=`));
    await check(await h.send('GET', `${BASE}/page%3A42`, { as: null }));
    await check(
      await h.send('POST', `${BASE}/x`, {
        body: { clientId: 'a' },
        headers: { Origin: 'https://evil.test' },
      }),
    );
    await check(await h.send('GET', '/elsewhere'));
    await check(await h.send('PUT', `${BASE}/x`));
    await check(await h.send('POST', `${BASE}/x`, { raw: 'x'.repeat(9_000) }));
    await check(await createHarness({ store: brokenStore() }).send('GET', `${BASE}/x`));
    expect(statuses).toEqual([
      200, 423, 403, 409, 204, 409, 200, 400, 401, 403, 404, 405, 413, 500,
    ]);
  });
});
