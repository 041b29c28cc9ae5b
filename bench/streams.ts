/**
 * `npm run bench:streams`: the live channel (`GET {base}/events`) on one lock server — memory per
 * open stream, fan-out latency of a release to 1,000 streams, and the most streams one process
 * held with 0 errors. Loopback only (127.0.0.1), about 1–2 minutes, stops by itself; never part
 * of `npm test`.
 *
 * The server (bench/stream-server.ts: SQLite on a temp file, createLockHandler, toNodeHandler)
 * runs in a child process, so its memory is measured apart from the clients; a fresh one per
 * memory figure, because a process's RSS does not shrink back once connections close. The
 * clients are raw TCP sockets speaking HTTP/1.1 (the lightest client Node has), each its own
 * connection, as each browser tab has its own, spread over the 4 ports the server listens on (to
 * one port only, the client's kernel spends most of its time finding a free ephemeral port once
 * 15,000 of the 28,000 are taken).
 *
 * Baselines measured in the same run: for memory, as many idle keep-alive connections that each
 * completed one plain GET; for latency, a plain GET's round trip on the same server with the same
 * streams open.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BASE = '/api/locks';
const HERE = path.dirname(fileURLToPath(import.meta.url));
const SERVER_SCRIPT = path.join(HERE, 'stream-server.ts');
/** The file descriptors asked for the server (`ulimit -n` in its shell wrapper). */
const WANTED_FDS = 1_048_576;
const MEMORY_SIZES = [1_000, 5_000];
const IDS_PER_LIST = 10;
const FAN_OUT_STREAMS = 1_000;
const FAN_OUT_ROUNDS = Number(process.env.STREAM_BENCH_ROUNDS ?? 7);
const GET_SAMPLES = 300;
const SINGLE_ROUNDS = 30;
/**
 * Steps of the ramp. One just under the open-files limit (which server and client share here)
 * is added, so the last step with 0 errors is near the ceiling rather than a round number below.
 */
function rampSteps(fdLimit: number): number[] {
  const steps = [1_000, 2_000, 5_000, 10_000, 15_000, 20_000, 30_000, 40_000, 60_000];
  if (Number.isFinite(fdLimit) && fdLimit > 15_100) steps.push(fdLimit - 100);
  return [...new Set(steps)].sort((a, b) => a - b);
}
/** The ramp stops after this long, whatever step it reached. */
const RAMP_CAP_MS = 60_000;
/** Streams opening at once: enough to keep the server busy, few enough not to starve it. */
const OPEN_CONCURRENCY = 200;
const OPEN_TIMEOUT_MS = 5_000;
const EVENT_TIMEOUT_MS = 5_000;
/** Whatever happens, the bench ends by then. */
const HARD_DEADLINE_MS = 170_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// The server child

interface Memory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

interface ServerReport {
  /** Null when the server could not read it (`memoryError`, e.g. EMFILE at its fd limit). */
  memory: Memory | null;
  memoryError: string | null;
  hub: { streams: number; resources: number; timers: number; subscribed: boolean };
  connections: number;
}

interface LockServer {
  /** The ports it listens on (one process, one handler); the bench's own calls use the first. */
  ports: number[];
  port: number;
  child: ChildProcess;
  /** The open-files limit the server got (`Max open files` in /proc/<pid>/limits). */
  fdLimit: string;
}

const children = new Set<ChildProcess>();

async function startServer(maxStreams: number): Promise<LockServer> {
  // `ulimit -n` may be refused (no CAP_SYS_RESOURCE): the server then keeps the limit it had.
  const child = spawn(
    'sh',
    [
      '-c',
      `ulimit -n ${WANTED_FDS} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`,
      process.execPath,
      '--expose-gc',
      '--import',
      'tsx',
      SERVER_SCRIPT,
    ],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, STREAM_BENCH_MAX_STREAMS: String(maxStreams) },
    },
  );
  children.add(child);
  const ports = await new Promise<number[]>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('the server did not start in 20 s')), 20_000);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      text += chunk;
      const found = /READY ([\d,]+)\n/.exec(text);
      if (found) {
        clearTimeout(timer);
        resolve((found[1] as string).split(',').map(Number));
      }
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before READY`)));
  });
  let fdLimit = 'unknown';
  try {
    const limits = readFileSync(`/proc/${child.pid}/limits`, 'utf8');
    const line = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(limits);
    if (line) fdLimit = `${line[1]} (hard ${line[2]})`;
  } catch {
    // Not Linux: say unknown.
  }
  return { ports, port: ports[0] as number, child, fdLimit };
}

async function stopServer(server: LockServer): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // The server closes its connections first, so the TIME_WAITs are on its port, not ours.
  child.stdin?.end();
  await Promise.race([exited, sleep(5_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
  children.delete(child);
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 over raw sockets (read as latin1: every byte one character; the bench sends ASCII)

interface Parsed {
  status: number;
  head: string;
  body: string;
  /** What followed the response on the connection. */
  rest: string;
}

/** One complete response at the start of `text` (Content-Length or chunked), or null. */
function parseResponse(text: string): Parsed | null {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = text.slice(0, end);
  const status = Number(head.split(' ')[1]);
  let at = end + 4;
  if (/transfer-encoding: chunked/i.test(head)) {
    let body = '';
    for (;;) {
      const line = text.indexOf('\r\n', at);
      if (line < 0) return null;
      const size = Number.parseInt(text.slice(at, line), 16);
      if (text.length < line + 2 + size + 2) return null;
      body += text.slice(line + 2, line + 2 + size);
      at = line + 2 + size + 2;
      if (size === 0) return { status, head, body, rest: text.slice(at) };
    }
  }
  const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
  if (text.length < at + length) return null;
  return { status, head, body: text.slice(at, at + length), rest: text.slice(at + length) };
}

/** One request on a fresh connection, kept open after the answer (a keep-alive connection). */
function openConnection(
  port: number,
  request: string,
): Promise<{ socket: net.Socket; status: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timeout: no answer within ${OPEN_TIMEOUT_MS / 1000} s`));
    }, OPEN_TIMEOUT_MS);
    socket.setEncoding('latin1');
    socket.on('data', function onData(chunk: string) {
      text += chunk;
      const answer = parseResponse(text);
      if (answer === null) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.removeAllListeners('close');
      resolve({ socket, status: answer.status });
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new Error('connection closed before the answer'));
    });
    socket.write(request);
  });
}

const getRequest = (pathname: string, user: string, extra = '') =>
  `GET ${pathname} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-User: ${user}\r\n${extra}\r\n`;

/** A keep-alive connection for the bench's own calls (memory, acquire, release, GET). */
class Control {
  private socket: net.Socket | null = null;
  private text = '';
  private waiting: ((answer: { status: number; body: string }) => void) | null = null;

  constructor(private readonly port: number) {}

  private connect(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port: this.port, host: '127.0.0.1' }, () => resolve(socket));
      socket.setNoDelay(true);
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        this.text += chunk;
        this.drain();
      });
      socket.once('error', reject);
      socket.once('close', () => {
        this.socket = null;
      });
    });
  }

  private drain(): void {
    if (!this.waiting) return;
    const answer = parseResponse(this.text);
    if (answer === null) return;
    this.text = answer.rest;
    const done = this.waiting;
    this.waiting = null;
    done({ status: answer.status, body: answer.body });
  }

  async call(
    method: 'GET' | 'POST',
    pathname: string,
    user: string,
    body?: unknown,
  ): Promise<{ status: number; body: string }> {
    if (!this.socket) this.socket = await this.connect();
    const payload = body === undefined ? '' : JSON.stringify(body);
    const headers =
      body === undefined
        ? ''
        : `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n`;
    const answer = new Promise<{ status: number; body: string }>((resolve) => {
      this.waiting = resolve;
    });
    this.socket.write(
      `${method} ${pathname} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-User: ${user}\r\n${headers}\r\n${payload}`,
    );
    return answer;
  }

  async report(collect = true): Promise<ServerReport> {
    const route = collect ? '/bench/memory' : '/bench/memory?gc=0';
    return JSON.parse((await this.call('GET', route, 'bench')).body) as ServerReport;
  }

  /** The report, its memory required. */
  async memory(): Promise<ServerReport & { memory: Memory }> {
    const report = await this.report();
    if (report.memory === null) throw new Error(`the server's memory: ${report.memoryError}`);
    return report as ServerReport & { memory: Memory };
  }

  close(): void {
    this.socket?.destroy();
  }
}

/** One open event stream as a tab holds it: a socket, and a watch for the next expected text. */
class Stream {
  closed: string | null = null;
  private tail = '';
  private expected: string | null = null;
  private onSeen: ((at: number) => void) | null = null;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.once('close', () => {
      this.closed ??= 'closed by the server';
    });
    socket.once('error', (error) => {
      this.closed = error.message;
    });
  }

  /** Resolves with the time `text` arrives (a lapse of time past `timeoutMs` rejects). */
  expect(text: string, timeoutMs = EVENT_TIMEOUT_MS): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.expected = null;
        reject(new Error(`no ${text} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.expected = text;
      this.onSeen = (at) => {
        clearTimeout(timer);
        resolve(at);
      };
    });
  }

  private receive(chunk: string): void {
    const at = performance.now();
    if (this.expected === null) {
      this.tail = chunk.slice(-200);
      return;
    }
    // An event may come split across segments: search it with the end of the previous one.
    const text = this.tail + chunk;
    this.tail = chunk.slice(-200);
    if (!text.includes(this.expected)) return;
    this.expected = null;
    this.tail = '';
    this.onSeen?.(at);
  }

  close(): void {
    this.closed ??= 'closed by the bench';
    this.socket.destroy();
  }
}

/** The server port the `i`-th connection goes to: spread over every port it listens on. */
const portFor = (server: LockServer, i: number) => server.ports[i % server.ports.length] as number;

const idsQuery = (ids: readonly string[]) =>
  ids.map((id) => `ids=${encodeURIComponent(id)}`).join('&');

async function openStream(port: number, ids: readonly string[], user: string): Promise<Stream> {
  const last = ids[ids.length - 1] as string;
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let text = '';
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new Error(`timeout: no snapshot within ${OPEN_TIMEOUT_MS / 1000} s`)),
      OPEN_TIMEOUT_MS,
    );
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.on('data', function onData(chunk: string) {
      text += chunk;
      if (!text.startsWith('HTTP/1.1 200') && text.includes('\r\n\r\n')) {
        const status = text.slice(0, text.indexOf('\r\n'));
        const body = text.slice(text.indexOf('\r\n\r\n') + 4, text.indexOf('\r\n\r\n') + 200);
        fail(new Error(`refused: ${status} ${body.replace(/\s+/g, ' ')}`));
        return;
      }
      if (!text.includes(`"resourceId":${JSON.stringify(last)},"change":"snapshot"`)) return;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(socket);
    });
    socket.once('error', (error) => fail(error));
    socket.once('close', () => fail(new Error('closed before the snapshot')));
    socket.write(
      getRequest(`${BASE}/events?${idsQuery(ids)}`, user, 'Accept: text/event-stream\r\n'),
    );
  });
  socket.removeAllListeners('error');
  socket.removeAllListeners('close');
  return new Stream(socket);
}

/** Runs `open(i)` for i in [from, to), `OPEN_CONCURRENCY` at a time; stops at the first error. */
async function inBatches<T>(
  from: number,
  to: number,
  open: (i: number) => Promise<T>,
  into: T[],
  deadline = Number.POSITIVE_INFINITY,
): Promise<string | null> {
  let next = from;
  let failure: string | null = null;
  await Promise.all(
    Array.from({ length: OPEN_CONCURRENCY }, async () => {
      while (failure === null && next < to) {
        if (performance.now() > deadline) {
          failure ??= `the ${RAMP_CAP_MS / 1000} s cap`;
          return;
        }
        const i = next++;
        try {
          into.push(await open(i));
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          // A socket the bench could not open is the client's limit, not the server's.
          failure ??= code
            ? `${code} on the bench client (connect #${i + 1})`
            : `${(error as Error).message} (stream #${i + 1})`;
        }
      }
    }),
  );
  return failure;
}

// ---------------------------------------------------------------------------------------------
// Figures

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const ms = (n: number) => `${n.toFixed(1)} ms`;
const percent = (share: number) => (Number.isNaN(share) ? '–' : `${Math.round(100 * share)}%`);
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');

function quantiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0, n: sorted.length };
}

interface MemoryFigure {
  what: string;
  n: number;
  heapPer: number;
  rssPer: number;
  externalPer: number;
  resources: number;
}

/** A fresh server; its memory before and after `n` connections of one kind are open. */
async function memoryOf(
  kind: 'idle' | 'stream',
  n: number,
  idsPerStream: number,
): Promise<MemoryFigure> {
  const server = await startServer(n + 10);
  const control = new Control(server.port);
  const held: Array<{ close(): void }> = [];
  try {
    // Warm the routes, so their code and caches are not counted as the connections'.
    for (let i = 0; i < 20; i++) {
      await control.call('GET', `${BASE}/warm%3A${i}`, 'bench');
      const warm = await openStream(server.port, [`warm:${i}`], 'bench');
      warm.close();
    }
    await sleep(300);
    const before = await control.memory();
    const failure =
      kind === 'idle'
        ? await inBatches(
            0,
            n,
            async (i) => {
              const { socket, status } = await openConnection(
                portFor(server, i),
                getRequest(`${BASE}/page%3A${i}`, `viewer-${i}`),
              );
              if (status !== 200) throw new Error(`refused: HTTP ${status}`);
              return { close: () => socket.destroy() };
            },
            held,
          )
        : await inBatches(
            0,
            n,
            (i) =>
              openStream(
                portFor(server, i),
                Array.from({ length: idsPerStream }, (_, k) => `page:${i * idsPerStream + k}`),
                `viewer-${i}`,
              ),
            held,
          );
    if (failure) throw new Error(`memory (${kind}, ${n}): ${failure}`);
    await sleep(500);
    const after = await control.memory();
    if (kind === 'stream' && after.hub.streams !== n) {
      throw new Error(`memory: the hub counts ${after.hub.streams} streams, not ${n}`);
    }
    if (after.connections < n) {
      throw new Error(`memory: the server counts ${after.connections} connections, not ${n}`);
    }
    const per = (key: keyof Memory) => (after.memory[key] - before.memory[key]) / n;
    return {
      what:
        kind === 'idle'
          ? 'idle keep-alive connection (one plain GET done)'
          : `stream watching ${idsPerStream === 1 ? '1 id' : `${idsPerStream} ids`}`,
      n,
      heapPer: per('heapUsed'),
      rssPer: per('rss'),
      externalPer: per('external'),
      resources: after.hub.resources,
    };
  } finally {
    await stopServer(server);
    for (const connection of held) connection.close();
    control.close();
  }
}

/**
 * Rounds of acquire then release of `hot` by a holder: for each stream, the time from sending
 * the release to its `released` event.
 */
async function releaseRounds(control: Control, streams: Stream[], rounds: number) {
  const clientId = 'holder-tab';
  const released: number[] = [];
  const releaseAnswers: number[] = [];
  const roundMax: number[] = [];
  let missed = 0;
  for (let round = 0; round < rounds; round++) {
    const acquiredSeen = streams.map((s) => s.expect('"change":"acquired"'));
    const held = await control.call('POST', `${BASE}/hot`, 'holder', { clientId });
    if (held.status !== 200) throw new Error(`fan-out: acquire answered ${held.status}`);
    await Promise.all(acquiredSeen);
    await sleep(150);
    const { token } = JSON.parse(held.body) as { token: string };
    const releasedSeen = streams.map((s) => s.expect('"change":"released"'));
    const sent = performance.now();
    const answer = await control.call('POST', `${BASE}/hot/release`, 'holder', { token });
    releaseAnswers.push(performance.now() - sent);
    if (answer.status !== 204) throw new Error(`fan-out: release answered ${answer.status}`);
    let worst = 0;
    for (const time of await Promise.allSettled(releasedSeen)) {
      if (time.status === 'rejected') {
        missed += 1;
        continue;
      }
      released.push(time.value - sent);
      worst = Math.max(worst, time.value - sent);
    }
    roundMax.push(worst);
    await sleep(150);
  }
  return {
    events: quantiles(released),
    releaseAnswer: quantiles(releaseAnswers),
    roundMax,
    missed,
  };
}

async function fanOut() {
  const server = await startServer(FAN_OUT_STREAMS + 10);
  const control = new Control(server.port);
  const streams: Stream[] = [];
  try {
    // The same rounds with one stream first: what one event costs, without the fan-out.
    const single = await openStream(server.port, ['hot'], 'viewer-single');
    const one = await releaseRounds(control, [single], SINGLE_ROUNDS);
    single.close();
    const failure = await inBatches(
      0,
      FAN_OUT_STREAMS,
      (i) => openStream(portFor(server, i), ['hot'], `viewer-${i}`),
      streams,
    );
    if (failure) throw new Error(`fan-out: ${failure}`);
    const many = await releaseRounds(control, streams, FAN_OUT_ROUNDS);
    // The baseline: a plain GET's round trip, same server, same streams open.
    const gets: number[] = [];
    for (let i = 0; i < GET_SAMPLES; i++) {
      const started = performance.now();
      const answer = await control.call('GET', `${BASE}/hot`, 'viewer-0');
      if (answer.status !== 200) throw new Error(`fan-out: GET answered ${answer.status}`);
      gets.push(performance.now() - started);
    }
    const closed = streams.filter((s) => s.closed !== null).length;
    return { one, many, get: quantiles(gets), closed };
  } finally {
    await stopServer(server);
    for (const stream of streams) stream.close();
    control.close();
  }
}

interface RampStep {
  target: number;
  open: number;
  seconds: number;
  rss: number;
  heapUsed: number;
  /** Share of one core each side used while the step opened its streams. */
  serverCpu: number;
  clientCpu: number;
  /** The client's share in the kernel (connect, the search for a free ephemeral port). */
  clientSys: number;
  /** Streams the server's hub counted open after the step. */
  hubStreams: number;
  errors: number;
  failure: string | null;
}

async function ramp() {
  const server = await startServer(10_000_000);
  const control = new Control(server.port);
  const streams: Stream[] = [];
  const steps: RampStep[] = [];
  const targets = rampSteps(Number.parseInt(server.fdLimit, 10));
  let stoppedBy = `the last step (${targets[targets.length - 1]}) held`;
  const started = performance.now();
  const deadline = started + RAMP_CAP_MS;
  try {
    for (const target of targets) {
      const stepStarted = performance.now();
      const serverCpu = cpuSecondsOf(server.child.pid);
      const clientCpu = process.cpuUsage();
      let failure = await inBatches(
        streams.length,
        target,
        (i) => openStream(portFor(server, i), [`page:${i}`], `viewer-${i}`),
        streams,
        deadline,
      );
      const stepSeconds = (performance.now() - stepStarted) / 1000;
      const serverCpuShare = (cpuSecondsOf(server.child.pid) - serverCpu) / stepSeconds;
      const used = process.cpuUsage(clientCpu);
      const clientCpuShare = (used.user + used.system) / 1e6 / stepSeconds;
      const clientSysShare = used.system / 1e6 / stepSeconds;
      await sleep(300);
      const dropped = streams.filter((s) => s.closed !== null).length;
      if (failure === null && dropped > 0) failure = `${dropped} open streams were closed`;
      let report: ServerReport | null = null;
      try {
        report = await Promise.race([
          control.report(false),
          sleep(10_000).then(() => {
            throw new Error('the server did not answer its memory route in 10 s');
          }),
        ]);
        if (report.memory === null) {
          const server = `the server could not read its memory: ${report.memoryError}`;
          failure = failure === null ? server : `${failure}; ${server}`;
        } else if (failure === null && report.hub.streams !== streams.length) {
          failure = `the hub counts ${report.hub.streams} streams, the bench ${streams.length}`;
        }
      } catch (error) {
        failure ??= (error as Error).message;
      }
      steps.push({
        target,
        open: streams.length - dropped,
        seconds: stepSeconds,
        serverCpu: serverCpuShare,
        clientCpu: clientCpuShare,
        clientSys: clientSysShare,
        rss: report?.memory?.rss ?? Number.NaN,
        heapUsed: report?.memory?.heapUsed ?? Number.NaN,
        hubStreams: report?.hub.streams ?? Number.NaN,
        errors: failure === null ? 0 : Math.max(1, target - streams.length + dropped),
        failure,
      });
      if (failure !== null) {
        stoppedBy = failure;
        break;
      }
      if (performance.now() > deadline) {
        stoppedBy = `the ${RAMP_CAP_MS / 1000} s cap (after the ${target} step)`;
        break;
      }
    }
    return {
      steps,
      stoppedBy,
      fdLimit: server.fdLimit,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await stopServer(server);
    for (const stream of streams) stream.close();
    control.close();
  }
}

/** CPU seconds a process used so far, from /proc (Linux; NaN elsewhere). */
function cpuSecondsOf(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function clientFdLimit(): string {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const line = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(limits);
    return line ? `${line[1]} (hard ${line[2]})` : 'unknown';
  } catch {
    return 'unknown';
  }
}

async function main() {
  const hardStop = setTimeout(() => {
    console.error('[page-lock] [bench:streams] Hard deadline reached: stopping');
    for (const child of children) child.kill('SIGKILL');
    process.exit(1);
  }, HARD_DEADLINE_MS);
  hardStop.unref();
  const began = performance.now();
  const cpus = os.cpus();
  console.log(
    `page-lock live channel (event streams) — ${new Date().toISOString()}, Node ${process.version}, ${cpus.length} × ${cpus[0]?.model.trim() ?? 'CPU'}, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, ${os.platform()} ${os.release()}`,
  );
  console.log(
    'Server: bench/stream-server.ts in its own process (SQLite on a temp file, createLockHandler + toNodeHandler on 127.0.0.1, 4 ports, heartbeat at its 20 s default); clients: raw HTTP/1.1 sockets, one connection each, in the bench process. Shared 2-core machine: figures are noisy.\n',
  );

  // 1. Memory per open stream.
  const memory: MemoryFigure[] = [];
  for (const n of MEMORY_SIZES) {
    memory.push(await memoryOf('idle', n, 1));
    memory.push(await memoryOf('stream', n, 1));
  }
  // Lists (10 ids a stream) once, at the smaller size: the bench stays within ~2 minutes.
  memory.push(await memoryOf('stream', MEMORY_SIZES[0] as number, IDS_PER_LIST));
  memory.sort((a, b) => a.n - b.n);
  console.log('### Server memory per open connection (after GC)\n');
  console.log(
    '| connection | N | heap used / conn | RSS / conn | external / conn | hub resources | heap vs idle conn | RSS vs idle conn |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const m of memory) {
    const idle = memory.find((x) => x.n === m.n && x.what.startsWith('idle')) as MemoryFigure;
    console.log(
      `| ${m.what} | ${m.n} | ${kib(m.heapPer)} | ${kib(m.rssPer)} | ${kib(m.externalPer)} | ${m.resources} | ${ratio(m.heapPer, idle.heapPer)} | ${ratio(m.rssPer, idle.rssPer)} |`,
    );
  }
  console.log('');

  // 2. Fan-out latency.
  const f = await fanOut();
  console.log(
    `### Fan-out: a release to ${FAN_OUT_STREAMS} streams watching one resource (one viewer user per stream)\n`,
  );
  console.log('| measured from sending the release | rounds | samples | p50 | p99 | max |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  const line = (name: string, rounds: number | string, q: ReturnType<typeof quantiles>) =>
    console.log(`| ${name} | ${rounds} | ${q.n} | ${ms(q.p50)} | ${ms(q.p99)} | ${ms(q.max)} |`);
  line(`\`released\` received, each of ${FAN_OUT_STREAMS} streams`, FAN_OUT_ROUNDS, f.many.events);
  line(
    `release answered (204), ${FAN_OUT_STREAMS} streams open`,
    FAN_OUT_ROUNDS,
    f.many.releaseAnswer,
  );
  line('`released` received, 1 stream open (same server, before)', SINGLE_ROUNDS, f.one.events);
  line(`baseline: plain GET round trip (${FAN_OUT_STREAMS} streams open)`, '–', f.get);
  console.log('');
  console.log(
    `1,000-stream event p50 vs GET p50: ${ratio(f.many.events.p50, f.get.p50)}, p99 vs GET p99: ${ratio(f.many.events.p99, f.get.p99)}; vs 1 stream p50: ${ratio(f.many.events.p50, f.one.events.p50)}; last stream of each round: ${f.many.roundMax.map((x) => x.toFixed(0)).join(', ')} ms; events missed (none within ${EVENT_TIMEOUT_MS / 1000} s): ${f.many.missed + f.one.missed}; streams closed: ${f.closed}\n`,
  );

  // 3. The most streams one process held.
  const r = await ramp();
  console.log(
    `### Open streams one server process held (ramp, each stream watching its own id, cap ${RAMP_CAP_MS / 1000} s)\n`,
  );
  console.log(
    '| step | streams open (client) | streams open (server hub) | step time | CPU server / client (of which kernel) | server RSS | server heap used (no GC) | not opened or dropped |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const s of r.steps) {
    console.log(
      `| ${s.target} | ${s.open} | ${Number.isNaN(s.hubStreams) ? '–' : s.hubStreams} | ${s.seconds.toFixed(1)} s | ${percent(s.serverCpu)} / ${percent(s.clientCpu)} (${percent(s.clientSys)}) | ${Number.isNaN(s.rss) ? '–' : mib(s.rss)} | ${Number.isNaN(s.heapUsed) ? '–' : mib(s.heapUsed)} | ${s.errors}${s.failure ? ` (${s.failure})` : ''} |`,
    );
  }
  const best = [...r.steps].reverse().find((s) => s.errors === 0);
  console.log('');
  console.log(
    `largest step held with 0 errors: ${best ? best.target : 'none'}; stopped by: ${r.stoppedBy}; ramp ${r.seconds.toFixed(0)} s`,
  );
  console.log(
    `open-files limit: server ${r.fdLimit} (asked for ${WANTED_FDS} with ulimit -n), bench client ${clientFdLimit()}; ephemeral ports ${readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().replace(/\s+/, '–')}`,
  );
  console.log(`\ntotal ${((performance.now() - began) / 1000).toFixed(0)} s`);
  clearTimeout(hardStop);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    for (const child of children) child.kill('SIGKILL');
    process.exit(1);
  },
);
