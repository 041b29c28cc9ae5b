import type { IncomingMessage, ServerResponse } from 'node:http';

/** Resolves once `res` can take more, or once the client has gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function isEventStream(response: Response): boolean {
  return /^text\/event-stream\b/i.test(response.headers.get('Content-Type') ?? '');
}

/**
 * Writes a Web `Response` to Node's `res`: the status, every header (each `Set-Cookie` on its
 * own), then the body chunk by chunk as it arrives (an event stream is written as it goes, never
 * buffered), waiting for `drain` when the socket is full. When the client goes away (`signal`)
 * the body is cancelled, which frees what the stream held.
 */
export async function writeResponse(
  response: Response,
  req: IncomingMessage,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  res.statusCode = response.status;
  if (response.statusText !== '') res.statusMessage = response.statusText;
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('Set-Cookie', cookies);
  // A body the handler stopped reading (413, 408) may still be arriving: close after answering,
  // rather than wait for the rest before the connection can serve another request.
  if (!req.complete) res.setHeader('Connection', 'close');
  // An event stream stays open: HTTP/1 says so (HTTP/2 forbids the hop-by-hop header, and the
  // Web handler cannot know which one it answers).
  else if (isEventStream(response) && req.httpVersionMajor === 1 && !res.hasHeader('Connection')) {
    res.setHeader('Connection', 'keep-alive');
  }

  if (response.body === null) {
    res.end();
    return;
  }
  // A stream's client waits for the headers to know it is connected; its first chunk may be
  // a while coming.
  if (isEventStream(response)) res.flushHeaders();
  const reader = response.body.getReader();
  const cancel = () => {
    reader.cancel().catch(() => {});
  };
  signal.addEventListener('abort', cancel, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (signal.aborted) return;
      if (!res.write(value)) await drained(res);
    }
    res.end();
  } catch {
    // The body failed (or was cancelled) half way: the client must not take it for complete.
    res.destroy();
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}
