/**
 * The connections of bench:load's streams phase (bench/load-streams.ts), as raw HTTP/1.1
 * sockets, each its own connection as each browser tab has: an editor's event stream, an idle
 * keep-alive connection (the anchor), and a paced ramp that opens many of either.
 */
import net from 'node:net';

const OPEN_TIMEOUT_MS = 15_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One editor's event stream: a socket, and a watch for the next text it is waiting for. */
export class WatchingEditor {
  closedEarly: string | null = null;
  private closing = false;
  private tail = '';
  private expected: string | null = null;
  private onSeen: ((at: number) => void) | null = null;

  constructor(
    private readonly socket: net.Socket,
    readonly ids: readonly string[],
  ) {
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('error', (error) => {
      if (!this.closing) this.closedEarly ??= error.message;
    });
    socket.once('close', () => {
      if (!this.closing) this.closedEarly ??= 'closed by the server';
    });
  }

  /** Calls `onSeen` with the time `text` next arrives on the stream. */
  watch(text: string, onSeen: (at: number) => void): void {
    this.expected = text;
    this.onSeen = onSeen;
  }

  unwatch(): void {
    this.expected = null;
    this.onSeen = null;
  }

  private receive(chunk: string): void {
    const at = performance.now();
    const expected = this.expected;
    // Only the end of what came before, shorter than the text looked for: an event split over
    // two segments is found, one seen in an earlier round is not.
    const text = expected === null ? '' : this.tail.slice(1 - expected.length) + chunk;
    this.tail = chunk.slice(-100);
    if (expected === null || !text.includes(expected)) return;
    const seen = this.onSeen;
    this.unwatch();
    seen?.(at);
  }

  close(): void {
    this.closing = true;
    this.socket.destroy();
  }
}

export const changeOf = (id: string, change: string) =>
  `"resourceId":${JSON.stringify(id)},"change":"${change}"`;

const cookie = (user: string) => `Cookie: page-lock-demo-user=${user}\r\n`;

/** Opens `GET {base}/events` on a fresh connection; resolves once the last id's snapshot came. */
export function openStream(
  port: number,
  localAddress: string,
  ids: readonly string[],
  user: string,
): Promise<WatchingEditor> {
  const last = changeOf(ids[ids.length - 1] as string, 'snapshot');
  const query = ids.map((id) => `ids=${encodeURIComponent(id)}`).join('&');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    let text = '';
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new Error(`no snapshot within ${OPEN_TIMEOUT_MS / 1000} s`)),
      OPEN_TIMEOUT_MS,
    );
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.on('data', function onData(chunk: string) {
      text += chunk;
      if (!text.startsWith('HTTP/1.1 200') && isCompleteResponse(text)) {
        const code = /"code":"([^"]+)"/.exec(text)?.[1] ?? '';
        fail(new Error(`refused: HTTP ${text.slice(9, 12)} ${code}`.trim()));
        return;
      }
      if (!text.includes(last)) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.removeAllListeners('error');
      socket.removeAllListeners('close');
      resolve(new WatchingEditor(socket, ids));
    });
    socket.once('error', fail);
    socket.once('close', () => fail(new Error('closed before the snapshot')));
    socket.write(
      `GET /api/locks/events?${query} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${cookie(user)}Accept: text/event-stream\r\n\r\n`,
    );
  });
}

/** True once `text` holds one whole HTTP/1.1 response (Content-Length or chunked). */
function isCompleteResponse(text: string): boolean {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const head = text.slice(0, end);
  if (/transfer-encoding: chunked/i.test(head)) return text.endsWith('0\r\n\r\n');
  const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
  return text.length >= end + 4 + length;
}

/** An idle keep-alive connection: one GET of the constant route answered, the socket kept. */
export function openIdle(
  port: number,
  localAddress: string,
  user: string,
): Promise<IdleConnection> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    let text = '';
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new Error(`no answer within ${OPEN_TIMEOUT_MS / 1000} s`)),
      OPEN_TIMEOUT_MS,
    );
    socket.setEncoding('latin1');
    socket.on('data', function onData(chunk: string) {
      text += chunk;
      if (!isCompleteResponse(text)) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.removeAllListeners('error');
      socket.removeAllListeners('close');
      if (!text.startsWith('HTTP/1.1 200')) {
        socket.destroy();
        reject(new Error(`refused: HTTP ${text.slice(9, 12)}`));
        return;
      }
      resolve(new IdleConnection(socket));
    });
    socket.once('error', fail);
    socket.once('close', () => fail(new Error('closed before the answer')));
    socket.write(
      `GET /api/bench-constant HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${cookie(user)}\r\n`,
    );
  });
}

export class IdleConnection {
  closedEarly = false;
  private closing = false;

  constructor(private readonly socket: net.Socket) {
    socket.on('error', () => undefined);
    socket.once('close', () => {
      if (!this.closing) this.closedEarly = true;
    });
  }

  close(): void {
    this.closing = true;
    this.socket.destroy();
  }
}

export interface Opening<T> {
  opened: T[];
  /** Time from connect to usable (the answer, or the last snapshot), per connection opened. */
  openMs: number[];
  failures: Map<string, number>;
  seconds: number;
  stoppedBy: string | null;
}

/** Opens `count` connections spread over `spreadMs` (0: at once), `inFlight` at a time at most. */
export async function openMany<T>(
  count: number,
  spreadMs: number,
  inFlight: number,
  capMs: number,
  open: (i: number) => Promise<T>,
): Promise<Opening<T>> {
  const result: Opening<T> = {
    opened: [],
    openMs: [],
    failures: new Map(),
    seconds: 0,
    stoppedBy: null,
  };
  const started = performance.now();
  const tasks: Promise<void>[] = [];
  let pending = 0;
  let slotFree: (() => void) | null = null;
  for (let i = 0; i < count; i++) {
    if (performance.now() - started > capMs) {
      result.stoppedBy = `the ${capMs / 1000} s cap, at ${i} of ${count}`;
      break;
    }
    const wait = started + (spreadMs * i) / count - performance.now();
    if (wait > 1) await sleep(wait);
    while (pending >= inFlight) await new Promise<void>((resolve) => (slotFree = resolve));
    pending++;
    const openedAt = performance.now();
    tasks.push(
      open(i)
        .then(
          (connection) => {
            result.opened.push(connection);
            result.openMs.push(performance.now() - openedAt);
          },
          (error: NodeJS.ErrnoException) => {
            // A socket the bench could not open is the client's limit, not the server's.
            const what = error.code ? `${error.code} on the bench client` : error.message;
            result.failures.set(what, (result.failures.get(what) ?? 0) + 1);
          },
        )
        .finally(() => {
          pending--;
          const wake = slotFree;
          slotFree = null;
          wake?.();
        }),
    );
  }
  await Promise.all(tasks);
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
