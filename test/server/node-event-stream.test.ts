import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { toNodeHandler } from '../../server-adapter/node/to-node-handler';
import { eventually } from './event-stream-support';

describe('toNodeHandler and streaming bodies', () => {
  it('writes each chunk as it arrives and aborts the Web request when the client goes away', async () => {
    const source: { push?: (text: string) => void } = {};
    let aborted = false;
    let cancelled = false;
    const encoder = new TextEncoder();
    const server = createServer(
      toNodeHandler((request) => {
        request.signal.addEventListener('abort', () => {
          aborted = true;
        });
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            source.push = (text) => controller.enqueue(encoder.encode(text));
          },
          cancel() {
            cancelled = true;
          },
        });
        return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } });
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/api/locks/events`);
      expect(response.headers.get('Connection')).toBe('keep-alive');
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      // Each chunk is read before the next one exists: nothing waits for the body to end.
      for (const text of ['retry: 3000\n\n', ': ping\n\n', 'data: {}\n\n']) {
        await eventually(() => source.push !== undefined);
        source.push?.(text);
        const { value } = await reader.read();
        expect(decoder.decode(value)).toBe(text);
      }
      await reader.cancel();
      await eventually(() => aborted && cancelled);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
