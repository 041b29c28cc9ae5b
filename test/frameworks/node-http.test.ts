import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type RequestListener,
} from 'node:http';
import { BODY_ALREADY_READ_MESSAGE, toNodeHandler, type WebHandler } from 'page-lock/node';
import { createLockHandler } from 'page-lock/server';
import { describe, expect, it, vi } from 'vitest';
import { getDemoUser } from '../../examples/express/session';
import {
  acquireAsAlice,
  closeServer,
  createTestService,
  LOCKS_PATH,
  listenOnLoopback,
  runContractThrough,
} from './framework-harness';

// page-lock/node on Node's own http server, with nothing in between.
runContractThrough('node:http (page-lock/node)', async (service) => {
  const handler = createLockHandler({ service, basePath: LOCKS_PATH, getUser: getDemoUser });
  const server = createServer(toNodeHandler(handler));
  const origin = await listenOnLoopback(server);
  return { origin, stop: () => closeServer(server) };
});

/** Runs `body` against a node:http server with `listener`. */
async function withServer(
  listener: RequestListener,
  body: (origin: string) => Promise<void>,
): Promise<void> {
  const server = createServer(listener);
  const origin = await listenOnLoopback(server);
  try {
    await body(origin);
  } finally {
    await closeServer(server);
  }
}

/** A raw node:http request, so the test sets Host and reads repeated headers as sent. */
function rawRequest(
  origin: string,
  path: string,
  headers: Record<string, string>,
): Promise<IncomingMessage & { text: string }> {
  return new Promise((resolve, reject) => {
    const sent = httpRequest(`${origin}${path}`, { headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => resolve(Object.assign(response, { text })));
    });
    sent.on('error', reject);
    sent.end();
  });
}

describe('toNodeHandler: from a Node request to a Web Request and back', () => {
  it('passes the method, every header with Host, and the full URL the client asked for', async () => {
    const seen: { url?: string; host?: string | null; tags?: string | null } = {};
    await withServer(
      toNodeHandler((request) => {
        seen.url = request.url;
        seen.host = request.headers.get('Host');
        seen.tags = request.headers.get('X-Tag');
        return new Response(null, { status: 204 });
      }),
      async (origin) => {
        const answer = await rawRequest(origin, '/api/locks/page%2F1?clientId=tab-1', {
          Host: 'admin.example:8080',
          'X-Tag': 'a',
        });
        expect(answer.statusCode).toBe(204);
      },
    );
    expect(seen).toEqual({
      url: 'http://admin.example:8080/api/locks/page%2F1?clientId=tab-1',
      host: 'admin.example:8080',
      tags: 'a',
    });
  });

  it('uses Express’s originalUrl, so basePath is the full path whatever the mount path', async () => {
    let seen = '';
    const handler = toNodeHandler((request) => {
      seen = new URL(request.url).pathname;
      return new Response(null, { status: 204 });
    });
    await withServer(
      (req, res) => {
        // What Express does for app.use('/api/locks', …): strip the mount path, keep the original.
        Object.assign(req, { originalUrl: req.url, url: req.url?.slice('/api/locks'.length) });
        return handler(req, res);
      },
      async (origin) => {
        await fetch(`${origin}/api/locks/page%3A1`);
      },
    );
    expect(seen).toBe('/api/locks/page%3A1');
  });

  it('writes the status, every header (each Set-Cookie apart) and the body', async () => {
    await withServer(
      toNodeHandler(() => {
        const headers = new Headers({ 'Content-Type': 'text/plain', 'X-Answer': '42' });
        headers.append('Set-Cookie', 'a=1; Path=/');
        headers.append('Set-Cookie', 'b=2; Path=/');
        return new Response('hello', { status: 202, statusText: 'Taken', headers });
      }),
      async (origin) => {
        const answer = await rawRequest(origin, '/', {});
        expect(answer.statusCode).toBe(202);
        expect(answer.statusMessage).toBe('Taken');
        expect(answer.headers['x-answer']).toBe('42');
        expect(answer.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
        expect(answer.text).toBe('hello');
      },
    );
  });

  it('reads the body raw, with the handler’s cap: an oversized chunked body gets its 413', async () => {
    const { service } = createTestService();
    const handler = createLockHandler({
      service,
      basePath: LOCKS_PATH,
      getUser: getDemoUser,
      maxBodyBytes: 64,
    });
    await withServer(toNodeHandler(handler), async (origin) => {
      const big = new TextEncoder().encode(JSON.stringify({ clientId: 'x'.repeat(10_000) }));
      const answer = await fetch(`${origin}${LOCKS_PATH}/page%3A1`, {
        method: 'POST',
        headers: { Cookie: 'demo-user=alice' },
        // A stream: sent chunked, with no content-length to refuse it by.
        body: new ReadableStream({
          start(controller) {
            controller.enqueue(big);
            controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
      expect(answer.status).toBe(413);
      expect(await answer.json()).toMatchObject({ error: { code: 'payload-too-large' } });
    });
  });

  it('answers 408 to a body that stops half way, and closes that connection', async () => {
    const { service } = createTestService();
    const handler = createLockHandler({
      service,
      basePath: LOCKS_PATH,
      getUser: getDemoUser,
      bodyTimeoutMs: 200,
    });
    await withServer(toNodeHandler(handler), async (origin) => {
      const answer = await new Promise<IncomingMessage>((resolve, reject) => {
        const sent = httpRequest(`${origin}${LOCKS_PATH}/page%3A1`, {
          method: 'POST',
          headers: { Cookie: 'demo-user=alice', 'Transfer-Encoding': 'chunked' },
        });
        sent.on('response', resolve);
        sent.on('error', reject);
        sent.write('{"clientId":'); // and nothing more
      });
      expect(answer.statusCode).toBe(408);
      expect(answer.headers.connection).toBe('close');
      answer.resume();
    });
  });

  it('fires the request’s signal when the client goes away before the answer', async () => {
    let aborted: Promise<void> | undefined;
    let called: () => void = () => {};
    const handlerCalled = new Promise<void>((resolve) => {
      called = resolve;
    });
    await withServer(
      toNodeHandler((request) => {
        aborted = new Promise((resolve) =>
          request.signal.addEventListener('abort', () => resolve()),
        );
        called();
        return aborted.then(() => new Response(null, { status: 204 }));
      }),
      async (origin) => {
        const client = new AbortController();
        const answer = fetch(`${origin}/`, { signal: client.signal }).catch(() => 'gone');
        await handlerCalled;
        client.abort();
        expect(await answer).toBe('gone');
        await aborted;
      },
    );
  });

  it('answers the protocol’s 500 and logs the fix once when a body parser read the body first', async () => {
    const { service } = createTestService();
    const locks = toNodeHandler(
      createLockHandler({ service, basePath: LOCKS_PATH, getUser: getDemoUser }),
    );
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await withServer(
        (req, res) => {
          // A body parser in front: reads the stream to its end, then passes the request on.
          req.resume();
          req.on('end', () => locks(req, res));
        },
        async (origin) => {
          expect((await acquireAsAlice(origin, 'page:1')).status).toBe(500);
          expect((await acquireAsAlice(origin, 'page:1')).status).toBe(500);
        },
      );
      expect(logged.mock.calls).toEqual([[BODY_ALREADY_READ_MESSAGE]]);
      expect(await service.list()).toEqual([]);
    } finally {
      logged.mockRestore();
    }
  });

  it('gives what the handler threw to Express’s next(), or answers 500 without one', async () => {
    const failure = new Error('boom');
    const handler = toNodeHandler(() => Promise.reject(failure));
    const passed: unknown[] = [];
    await withServer(
      (req, res) =>
        handler(req, res, (error) => {
          passed.push(error);
          res.statusCode = 502;
          res.end();
        }),
      async (origin) => {
        expect((await fetch(origin)).status).toBe(502);
      },
    );
    expect(passed).toEqual([failure]);

    const reported: unknown[] = [];
    const alone = toNodeHandler(() => Promise.reject(failure), {
      onError: (error) => reported.push(error),
    });
    await withServer(alone, async (origin) => {
      const answer = await fetch(origin);
      expect(answer.status).toBe(500);
      expect(await answer.json()).toMatchObject({ error: { code: 'store-error' } });
    });
    expect(reported).toEqual([failure]);
  });

  it('says what it needs when given no handler', () => {
    expect(() => toNodeHandler(undefined as unknown as WebHandler)).toThrow(
      /^\[page-lock\] \[node\] toNodeHandler\(handler\) needs a Web handler/,
    );
  });
});
