import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/**
 * A request as Node and the frameworks on it hand it over. Express adds `originalUrl`: the URL
 * before its mount path was stripped from `url`.
 */
export type NodeRequest = IncomingMessage & { originalUrl?: string };

/** A body is on its way when the request says so (a length above 0, or chunked). */
function declaresBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = Number(req.headers['content-length'] ?? 0);
  return Number.isFinite(length) && length > 0;
}

/**
 * Someone read the body before us: a body parser (`express.json()`, Fastify's own) read the stream
 * to its end, or is reading it. What it parsed (`req.body`) is no use to us: the handler reads the
 * raw bytes itself, with its own cap and deadline, whatever the content type.
 */
export function bodyWasRead(req: IncomingMessage): boolean {
  return declaresBody(req) && (req.readableEnded || req.readableDidRead);
}

/**
 * The full URL the client asked for: Express's `originalUrl` (its mount path included), else
 * `url`, on the Host the request names. The handler matches `basePath` against this path; its
 * cross-site check reads the Host header itself, never this URL.
 */
function requestUrl(req: NodeRequest): URL {
  const target = req.originalUrl ?? req.url ?? '/';
  // The absolute form (`GET http://host/path`) is sent to proxies; it names its own host.
  if (/^https?:\/\//i.test(target)) return new URL(target);
  const scheme = (req.socket as TLSSocket | undefined)?.encrypted ? 'https' : 'http';
  // Concatenated, not resolved: a path starting with `//` must stay a path, not become a host.
  const url = new URL(`${scheme}://localhost${target.startsWith('/') ? '' : '/'}${target}`);
  const host = req.headers.host ?? req.headers[':authority'];
  // The setter ignores a Host it cannot parse, leaving `localhost`.
  if (typeof host === 'string' && host !== '') url.host = host;
  return url;
}

/** Node's request headers as Web `Headers`, repeated ones included; HTTP/2 pseudo-headers left out. */
function requestHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = raw[index] ?? '';
    if (name === '' || name.startsWith(':')) continue;
    headers.append(name, raw[index + 1] ?? '');
  }
  return headers;
}

/**
 * The request body as a Web stream, read from Node's stream only when the handler reads it
 * (`highWaterMark: 0`): a body the handler never looks at (a 404, a 401) is left to Node, which
 * discards it and keeps the connection.
 *
 * Cancelling (the handler's 413 and 408) stops reading without destroying the request, so the
 * answer still reaches the client; the response then closes the connection.
 */
function bodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  let settled = false;
  let listening = false;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (!listening) {
          listening = true;
          const fail = (error: Error) => {
            if (settled) return;
            settled = true;
            controller.error(error);
          };
          req.on('data', (chunk: Buffer) => {
            if (settled) return;
            controller.enqueue(new Uint8Array(chunk));
            if ((controller.desiredSize ?? 0) <= 0) req.pause();
          });
          req.once('end', () => {
            if (settled) return;
            settled = true;
            controller.close();
          });
          req.once('error', fail);
          req.once('close', () => {
            fail(
              new Error('[page-lock] [node] The client closed the request before its body ended'),
            );
          });
        }
        req.resume();
      },
      cancel() {
        settled = true;
        // Let the rest flow away unread.
        req.resume();
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * A Web `Request` for a Node request: its method, every header (Host included), the full
 * original URL and the raw body as a stream. `signal` fires when the client goes away.
 */
export function toWebRequest(req: NodeRequest, signal: AbortSignal): Request {
  const method = (req.method ?? 'GET').toUpperCase();
  const hasBody = method !== 'GET' && method !== 'HEAD' && declaresBody(req);
  const init: RequestInit & { duplex?: 'half' } = {
    method,
    headers: requestHeaders(req),
    signal,
  };
  if (hasBody) {
    init.body = bodyStream(req);
    init.duplex = 'half';
  }
  return new Request(requestUrl(req), init);
}
