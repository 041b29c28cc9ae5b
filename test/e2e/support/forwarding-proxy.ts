import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A reverse proxy on loopback in front of the demo, as a load balancer or nginx would be. */
export interface ForwardingProxy {
  /** `http://127.0.0.1:{port}`: where browsers open the site. */
  readonly url: string;
  /** The headers of every request that passed, as the proxy received them from the client. */
  readonly seen: { method: string; path: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/**
 * Forwards every request to `upstream`, the way common proxies are set up: `Host` becomes the
 * upstream's, and the address the client used goes in `X-Forwarded-Host` / `X-Forwarded-Proto`
 * / `X-Forwarded-For`.
 */
export async function startForwardingProxy(upstream: string): Promise<ForwardingProxy> {
  const target = new URL(upstream);
  const seen: ForwardingProxy['seen'] = [];
  const server = createServer((incoming, outgoing) => {
    seen.push({
      method: incoming.method ?? '',
      path: incoming.url ?? '',
      headers: incoming.headers,
    });
    const headers: IncomingHttpHeaders = {
      ...incoming.headers,
      host: target.host,
      'x-forwarded-host': incoming.headers.host,
      'x-forwarded-proto': 'http',
      'x-forwarded-for': incoming.socket.remoteAddress,
    };
    const forwarded = httpRequest(
      {
        hostname: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => {
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end();
    });
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A request from a program, not a browser: exactly the headers given (no `Sec-Fetch-*`). */
export function rawRequest(
  url: string,
  options: { method: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: unknown }> {
  const { host, hostname, port, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const sent = httpRequest(
      {
        // `[::1]` in a URL, `::1` on the socket.
        hostname: hostname.replace(/^\[(.*)\]$/, '$1'),
        port,
        path: `${pathname}${search}`,
        method: options.method,
        headers: { Host: host, ...options.headers },
      },
      (answer) => {
        let text = '';
        answer.setEncoding('utf8');
        answer.on('data', (chunk) => {
          text += chunk;
        });
        answer.on('end', () => {
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : null;
          } catch {
            // Not JSON: kept as text.
          }
          resolve({ status: answer.statusCode ?? 0, body });
        });
      },
    );
    sent.on('error', reject);
    sent.end(options.body);
  });
}
