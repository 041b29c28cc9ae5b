// @vitest-environment jsdom
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createLockStream, type LockStreamNews } from '../../src/core/lock-stream';

// The React tests run under jsdom, whose AbortController and TextDecoder are not Node's: the
// stream must open, read, and let go there too.
const base = 'http://app.test/api/locks';
const network = setupServer();
beforeAll(() => network.listen({ onUnhandledRequest: 'error' }));
afterAll(() => network.close());

it('opens, reads an event and lets go under jsdom', async () => {
  let released = false;
  const event = { resourceId: 'page:a', change: 'released', status: 'free', ttlMs: 1, now: 1 };
  network.use(
    http.get(`${base}/events`, ({ request }) => {
      request.signal.addEventListener('abort', () => {
        released = true;
      });
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(
            new TextEncoder().encode(`: ping\n\nevent: lock\ndata: ${JSON.stringify(event)}\n\n`),
          );
        },
      });
      return new HttpResponse(body, { headers: { 'Content-Type': 'text/event-stream' } });
    }),
  );
  const heard: LockStreamNews[] = [];
  const live = createLockStream({ url: (ids) => `${base}/events?ids=${ids.join('&ids=')}` });
  live.watch('page:a', (news) => heard.push(news));
  await vi.waitFor(() => expect(heard).toEqual([{ type: 'up' }, { type: 'event', event }]));
  live.close();
  await vi.waitFor(() => expect(released).toBe(true));
});
