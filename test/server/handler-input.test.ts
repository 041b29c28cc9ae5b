import { describe, expect, it } from 'vitest';
import {
  alice,
  BASE,
  createHarness,
  expectProtocolHeaders,
  type Harness,
  json,
  type SendOptions,
} from './handler-harness';

/** Alice holds page:42; every bad request below must leave exactly that behind. */
async function withAliceHolding() {
  const h = createHarness();
  const held = await json(await h.acquire('page:42', alice, 'tab-a'));
  return { h, token: held.token as string, before: await h.snapshot() };
}

async function expectNothingChanged(h: Harness, before: Awaited<ReturnType<Harness['snapshot']>>) {
  expect(await h.snapshot()).toEqual(before);
}

interface BadRequest {
  name: string;
  method: string;
  path: string;
  init?: SendOptions;
  field: string;
}

const id = `${BASE}/page%3A42`;
const tooLongId = 'x'.repeat(257);

const badRequests: BadRequest[] = [
  {
    name: 'malformed JSON',
    method: 'POST',
    path: id,
    init: { raw: '{"clientId":' },
    field: 'body',
  },
  { name: 'a JSON array', method: 'POST', path: id, init: { body: ['tab-a'] }, field: 'body' },
  { name: 'a JSON string', method: 'POST', path: id, init: { body: 'tab-a' }, field: 'body' },
  {
    name: 'invalid UTF-8',
    method: 'POST',
    path: id,
    init: { raw: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) },
    field: 'body',
  },
  { name: 'no clientId', method: 'POST', path: id, init: { body: {} }, field: 'clientId' },
  { name: 'an empty body', method: 'POST', path: id, init: {}, field: 'clientId' },
  {
    name: 'clientId a number',
    method: 'POST',
    path: id,
    init: { body: { clientId: 7 } },
    field: 'clientId',
  },
  {
    name: 'clientId empty',
    method: 'POST',
    path: id,
    init: { body: { clientId: '' } },
    field: 'clientId',
  },
  {
    name: 'clientId too long',
    method: 'POST',
    path: id,
    init: { body: { clientId: 'c'.repeat(201) } },
    field: 'clientId',
  },
  {
    name: 'token a number',
    method: 'POST',
    path: id,
    init: { body: { clientId: 'tab-a', token: 1 } },
    field: 'token',
  },
  {
    name: 'token null',
    method: 'POST',
    path: id,
    init: { body: { clientId: 'tab-a', token: null } },
    field: 'token',
  },
  {
    name: 'an empty id',
    method: 'POST',
    path: `${BASE}//takeover`,
    init: { body: { clientId: 'tab-b', expectedFence: 1 } },
    field: 'resourceId',
  },
  {
    name: 'an id over 256 characters',
    method: 'POST',
    path: `${BASE}/${tooLongId}`,
    init: { body: { clientId: 'tab-b' } },
    field: 'resourceId',
  },
  {
    name: 'a malformed % escape',
    method: 'POST',
    path: `${BASE}/page%ZZ42`,
    init: { body: { clientId: 'tab-b' } },
    field: 'resourceId',
  },
  {
    name: 'a truncated UTF-8 escape',
    method: 'GET',
    path: `${BASE}/page%E2%82`,
    field: 'resourceId',
  },
  ...[-1, 1.5, '1', null, undefined, Number.MAX_SAFE_INTEGER + 1].map(
    (expectedFence): BadRequest => ({
      name: `expectedFence ${JSON.stringify(expectedFence) ?? 'missing'}`,
      method: 'POST',
      path: `${id}/takeover`,
      init: { body: { clientId: 'tab-a', expectedFence } },
      field: 'expectedFence',
    }),
  ),
  {
    name: 'release without token',
    method: 'POST',
    path: `${id}/release`,
    init: { as: null, raw: '{}' },
    field: 'token',
  },
  {
    name: 'release with token a number',
    method: 'POST',
    path: `${id}/release`,
    init: { as: null, raw: '{"token":42}' },
    field: 'token',
  },
  { name: 'DELETE without token', method: 'DELETE', path: id, init: { body: {} }, field: 'token' },
  {
    name: 'DELETE with malformed JSON',
    method: 'DELETE',
    path: id,
    init: { raw: 'token=abc' },
    field: 'body',
  },
  {
    name: 'status with an empty clientId',
    method: 'GET',
    path: `${id}?clientId=`,
    field: 'clientId',
  },
  { name: 'batch without ids', method: 'GET', path: BASE, field: 'ids' },
  { name: 'batch with an empty id', method: 'GET', path: `${BASE}?ids=a&ids=`, field: 'ids' },
  {
    name: 'batch with an id over 256 characters',
    method: 'GET',
    path: `${BASE}?ids=${tooLongId}`,
    field: 'ids',
  },
];

describe('bad input: 400 naming the field, nothing changed', () => {
  it.each(badRequests)('$name → 400 "$field"', async ({ method, path, init, field }) => {
    const { h, before } = await withAliceHolding();
    const response = await h.send(method, path, init);
    expect(response.status).toBe(400);
    const body = await json(response);
    expect(body).toEqual({
      error: { code: 'bad-request', message: expect.stringContaining(`"${field}"`) },
      now: h.now(),
    });
    await expectNothingChanged(h, before);
  });

  it('accepts an id of exactly 256 characters', async () => {
    const h = createHarness();
    const response = await h.acquire('y'.repeat(256), alice, 'tab-a');
    expect(response.status).toBe(200);
  });
});

describe('unknown routes and methods', () => {
  it.each([
    `${BASE}/page%3A42/unknown`,
    `${BASE}/page/42/release`,
    `${BASE}/a/takeover/extra`,
    '/api/other',
    '/api/locksmith/page',
  ])('answers 404 JSON to %s', async (path) => {
    const { h, before } = await withAliceHolding();
    const response = await h.send('POST', path, { body: { clientId: 'tab-b', token: 'x' } });
    expect(response.status).toBe(404);
    expect((await json(response)).error.code).toBe('not-found');
    await expectNothingChanged(h, before);
  });

  it.each([
    ['PUT', id, 'GET, POST, DELETE'],
    ['PATCH', id, 'GET, POST, DELETE'],
    ['HEAD', id, 'GET, POST, DELETE'],
    ['OPTIONS', id, 'GET, POST, DELETE'],
    ['POST', BASE, 'GET'],
    ['DELETE', BASE, 'GET'],
    ['GET', `${id}/release`, 'POST'],
    ['DELETE', `${id}/takeover`, 'POST'],
  ])('answers %s %s with 405 JSON and Allow: %s', async (method, path, allow) => {
    const { h, before } = await withAliceHolding();
    const response = await h.send(method, path);
    expect(response.status).toBe(405);
    expect(response.headers.get('Allow')).toBe(allow);
    expectProtocolHeaders(response);
    if (method !== 'HEAD') expect((await json(response)).error.code).toBe('method-not-allowed');
    await expectNothingChanged(h, before);
  });
});

describe('bodies over maxBodyBytes: 413', () => {
  const padded = (bytes: number) => JSON.stringify({ clientId: 'tab-b', pad: 'p'.repeat(bytes) });

  it('refuses a body over 8 KiB by default, and accepts one just under', async () => {
    const { h, before } = await withAliceHolding();
    const over = await h.send('POST', `${BASE}/page%3A1`, { raw: padded(8 * 1024) });
    expect(over.status).toBe(413);
    expect((await json(over)).error.code).toBe('payload-too-large');
    await expectNothingChanged(h, before);
    const under = await h.send('POST', `${BASE}/page%3A1`, { raw: padded(8 * 1024 - 40) });
    expect(under.status).toBe(200);
  });

  it('stops reading a stream without content-length as soon as it is over the cap', async () => {
    const h = createHarness({ handler: { maxBodyBytes: 1_000 } });
    let chunksPulled = 0;
    let cancelled = false;
    // An endless body: only a reader that gives up can answer.
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        chunksPulled += 1;
        controller.enqueue(new TextEncoder().encode(' '.repeat(100)));
      },
      cancel() {
        cancelled = true;
      },
    });
    const request = new Request(`http://admin.test${BASE}/page%3A1`, {
      method: 'POST',
      headers: { Cookie: 'session=alice' },
      body: endless,
      duplex: 'half',
    } as RequestInit);
    expect(request.headers.get('Content-Length')).toBeNull();
    const response = await h.handler(request);
    expect(response.status).toBe(413);
    expect(chunksPulled).toBeLessThan(20);
    expect(cancelled).toBe(true);
    expect(await h.service.list()).toEqual([]);
  });

  it('refuses a release over the cap too (no session needed to be refused)', async () => {
    const { h, token, before } = await withAliceHolding();
    const response = await h.send('POST', `${id}/release`, {
      as: null,
      raw: JSON.stringify({ token, pad: 'p'.repeat(9_000) }),
    });
    expect(response.status).toBe(413);
    await expectNothingChanged(h, before);
  });
});

describe('bodies that never end: 408 after bodyTimeoutMs', () => {
  /** A body that sends its first bytes, then nothing more, and never closes. */
  const stalled = () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"token":'));
      },
      cancel() {
        cancelled = true;
      },
    });
    return { body, wasCancelled: () => cancelled };
  };

  it('answers a release (no session needed) whose body stalls with 408, ending nothing', async () => {
    const h = createHarness({ handler: { bodyTimeoutMs: 150 } });
    await json(await h.acquire('page:42', alice, 'tab-a'));
    const before = await h.snapshot();
    const { body, wasCancelled } = stalled();
    const started = performance.now();
    const response = await h.send('POST', `${id}/release`, { as: null, raw: body });
    const waited = performance.now() - started;
    expect(response.status).toBe(408);
    expect((await json(response)).error).toEqual({
      code: 'request-timeout',
      message: expect.stringContaining('150 ms'),
    });
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(wasCancelled()).toBe(true);
    await expectNothingChanged(h, before);
  });

  it('answers an acquire whose body stalls with 408 and grants nothing', async () => {
    const h = createHarness({ handler: { bodyTimeoutMs: 100 } });
    const response = await h.send('POST', id, { raw: stalled().body });
    expect(response.status).toBe(408);
    expect(await h.service.list()).toEqual([]);
  });

  it('waits 10 s by default, and refuses a timeout that is not a positive integer', async () => {
    const { DEFAULT_BODY_TIMEOUT_MS } = await import('../../server-adapter/handler/read-body');
    expect(DEFAULT_BODY_TIMEOUT_MS).toBe(10_000);
    expect(() => createHarness({ handler: { bodyTimeoutMs: 0 } })).toThrow(
      /\[page-lock\] \[handler\].*bodyTimeoutMs/,
    );
  });
});
