/**
 * The streams phase of `npm run bench:load`, on the same `next start` server as the load phases:
 * blocked editors, each holding one event stream (`GET /api/locks/events?ids=…`, `Accept:
 * text/event-stream`) on a connection of its own, as a browser tab has, watching a few pages
 * another editor holds.
 *
 * 1. The anchor: as many idle keep-alive connections, each after one GET of the constant route;
 *    the server's RSS and heap (after GC) with them open, then they close.
 * 2. A ramp to the streams (LOAD_STREAMS, default 10,000) over LOAD_STREAMS_RAMP_MS; the server's
 *    memory with them open. Each stream watches its blocked page (one of 100 the holder has),
 *    a page every stream watches and, for one stream in ten, a page 1,000 watch.
 * 3. Fan-out rounds: the holder releases a watched page; the time from sending the release to
 *    each stream receiving its `released` event. Then it takes the page back for the next round.
 *
 * The streams are raw HTTP/1.1 sockets in the bench process (the server's 10,000 sockets are in
 * the next-server process: neither comes near the 20,000 open-files limit), spread over a few
 * loopback source addresses so no one address runs short of ephemeral ports. Memory is read from
 * /proc (RSS) and from the server's probe (heap after GC; bench/load-next-server.mjs).
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { openFiles, openFilesLimit, usage } from './load-proc';
import {
  changeOf,
  type IdleConnection,
  type Opening,
  openIdle,
  openMany,
  openStream,
  type WatchingEditor,
} from './load-stream-client';

export const STREAMS = Number(process.env.LOAD_STREAMS ?? 10_000);
const RAMP_MS = Number(process.env.LOAD_STREAMS_RAMP_MS ?? 20_000);
const ROUNDS = Number(process.env.LOAD_STREAMS_ROUNDS ?? 5);
/** The phase stops starting work after this long (the bench's hard deadline counts it in). */
export const STREAMS_PHASE_CAP_MS = 170_000;
/** Opening stops after this long, whatever it reached: the anchor's connections, the streams. */
const IDLE_CAP_MS = 60_000;
const RAMP_CAP_MS = 80_000;

const HOLDER = 'alice';
/** The demo's other users (alice holds the pages). */
const BLOCKED_USERS = ['bob', 'carol'];
const BLOCKED_PAGES = 100;
const WATCHED_BY_SOME = 'streams:watched-by-1000';
const WATCHED_BY_ALL = 'streams:watched-by-all';
const SOME = 1_000;
/** Where the connections come from: 127.0.0.0/8 is all loopback, each address its own ports. */
const STREAM_SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
const IDLE_SOURCES = ['127.0.0.6', '127.0.0.7', '127.0.0.8', '127.0.0.9'];
const STREAMS_IN_FLIGHT = 100;
const IDLE_IN_FLIGHT = 64;
const EVENT_TIMEOUT_MS = 20_000;
const ROUND_PAUSE_MS = 300;
const MEMORY_MARK = 'PAGE_LOCK_LOAD_MEMORY ';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export type Send = (
  method: 'GET' | 'POST',
  pathname: string,
  user: string,
  body?: unknown,
) => Promise<{ status: number; body: string }>;

export interface StreamsPhaseOptions {
  /** The next-server process (its pid for /proc, its stdout for the memory probe). */
  server: ChildProcess;
  port: number;
  /** The bench's keep-alive client for the holder's calls. */
  send: Send;
  /** How often the holder refreshes its leases (the bench's compressed poll). */
  refreshEveryMs: number;
}

// ---------------------------------------------------------------------------------------------
// The server's memory

interface MemoryPoint {
  rssKiB: number;
  heapUsed: number;
  external: number;
  openFiles: number;
}

/** Asks the server's probe for its memory after GC, then reads its RSS from /proc. */
class ServerMemory {
  private readonly waiting: Array<(usage: NodeJS.MemoryUsage) => void> = [];
  private text = '';

  constructor(private readonly server: ChildProcess) {
    server.stdout?.on('data', (chunk: Buffer | string) => {
      this.text += chunk.toString();
      for (let end = this.text.indexOf('\n'); end >= 0; end = this.text.indexOf('\n')) {
        const line = this.text.slice(0, end);
        this.text = this.text.slice(end + 1);
        if (line.startsWith(MEMORY_MARK)) {
          this.waiting.shift()?.(JSON.parse(line.slice(MEMORY_MARK.length)) as NodeJS.MemoryUsage);
        }
      }
    });
  }

  async read(): Promise<MemoryPoint> {
    const pid = this.server.pid as number;
    const v8 = await new Promise<NodeJS.MemoryUsage>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('[page-lock] [bench:load] The server gave no memory within 30 s')),
        30_000,
      );
      this.waiting.push((answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      process.kill(pid, 'SIGUSR2');
    });
    await sleep(300);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return {
      rssKiB: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN),
      heapUsed: v8.heapUsed,
      external: v8.external,
      openFiles: openFiles([pid]),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// The holder and the fan-out

/** The editor holding the watched pages; its calls go one at a time (a refresh never races a release). */
class Holder {
  private readonly leases = new Map<string, { clientId: string; token: string }>();
  private queue: Promise<unknown> = Promise.resolve();
  refreshFailures = 0;

  constructor(private readonly send: Send) {}

  exclusive<T>(run: () => Promise<T>): Promise<T> {
    const next = this.queue.then(run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async acquire(id: string): Promise<void> {
    const clientId = `holder-${Math.random().toString(36).slice(2, 10)}`;
    const answer = await this.send('POST', `/api/locks/${encodeURIComponent(id)}`, HOLDER, {
      clientId,
    });
    if (answer.status !== 200) {
      throw new Error(`[page-lock] [bench:load] Acquiring ${id} answered ${answer.status}`);
    }
    this.leases.set(id, { clientId, token: (JSON.parse(answer.body) as { token: string }).token });
  }

  /** Sends the release; resolves with the time the answer (204) took. */
  async release(id: string): Promise<number> {
    const lease = this.leases.get(id);
    if (!lease) throw new Error(`[page-lock] [bench:load] ${id} is not held`);
    this.leases.delete(id);
    const sent = performance.now();
    const answer = await this.send('POST', `/api/locks/${encodeURIComponent(id)}/release`, HOLDER, {
      token: lease.token,
    });
    if (answer.status !== 204) {
      throw new Error(`[page-lock] [bench:load] Releasing ${id} answered ${answer.status}`);
    }
    return performance.now() - sent;
  }

  private refreshing = false;

  /** Refreshes every lease held; does nothing while the previous refresh still runs. */
  async refreshAll(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      await this.exclusive(() => this.refreshEach());
    } finally {
      this.refreshing = false;
    }
  }

  private async refreshEach(): Promise<void> {
    for (const [id, lease] of this.leases) {
      const answer = await this.send('POST', `/api/locks/${encodeURIComponent(id)}`, HOLDER, lease);
      if (answer.status === 200) {
        lease.token = (JSON.parse(answer.body) as { token: string }).token;
      } else {
        this.refreshFailures++;
      }
    }
  }
}

/** Waits until every stream saw `text`, or `timeoutMs`; the time each saw it (NaN: missed). */
function everyStreamSees(streams: WatchingEditor[], text: string): Promise<number[]> {
  return new Promise((resolve) => {
    const seen = streams.map(() => Number.NaN);
    let waiting = streams.length;
    const finish = () => {
      clearTimeout(timer);
      for (const stream of streams) stream.unwatch();
      resolve(seen);
    };
    const timer = setTimeout(finish, EVENT_TIMEOUT_MS);
    for (const [k, stream] of streams.entries()) {
      stream.watch(text, (at) => {
        seen[k] = at;
        waiting--;
        if (waiting === 0) finish();
      });
    }
    if (waiting === 0) finish();
  });
}

interface FanOut {
  watchers: number;
  rounds: number;
  /** From sending the release to each stream's `released`, every round. */
  latencies: number[];
  releaseAnswers: number[];
  /** The last stream of each round. */
  roundMax: number[];
  missed: number;
}

async function fanOut(
  holder: Holder,
  id: string,
  watchers: WatchingEditor[],
  deadline: number,
): Promise<FanOut> {
  const result: FanOut = {
    watchers: watchers.length,
    rounds: 0,
    latencies: [],
    releaseAnswers: [],
    roundMax: [],
    missed: 0,
  };
  for (let round = 0; round < ROUNDS && performance.now() < deadline; round++) {
    await holder.exclusive(async () => {
      const released = everyStreamSees(watchers, changeOf(id, 'released'));
      const sent = performance.now();
      result.releaseAnswers.push(await holder.release(id));
      let worst = 0;
      for (const at of await released) {
        if (Number.isNaN(at)) {
          result.missed++;
          continue;
        }
        result.latencies.push(at - sent);
        worst = Math.max(worst, at - sent);
      }
      result.roundMax.push(worst);
      // Taken back, and seen so by every stream, before the next round.
      const acquired = everyStreamSees(watchers, changeOf(id, 'acquired'));
      await holder.acquire(id);
      await acquired;
    });
    result.rounds++;
    await sleep(ROUND_PAUSE_MS);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// The phase

export interface StreamsPhase {
  target: number;
  idle: Opening<IdleConnection>;
  idleClosedEarly: number;
  streams: Opening<WatchingEditor>;
  before: MemoryPoint;
  withIdle: MemoryPoint;
  afterIdle: MemoryPoint;
  withStreams: MemoryPoint;
  rampServerCpu: number;
  rampGeneratorCpu: number;
  fanOutServerCpu: number;
  some: FanOut;
  all: FanOut;
  closedEarly: Map<string, number>;
  holderRefreshFailures: number;
  serverFdLimit: string;
  generatorFdLimit: string;
}

/** The ids a blocked editor's stream watches: its page, the page all watch, maybe the 1,000's. */
function idsOf(i: number, everyForSome: number): string[] {
  const ids = [`streams:page-${i % BLOCKED_PAGES}`, WATCHED_BY_ALL];
  if (i % everyForSome === 0) ids.push(WATCHED_BY_SOME);
  return ids;
}

const cpuShare = (pid: number) => {
  const start = usage([pid]).cpuSeconds;
  const startedAt = performance.now();
  return () => (usage([pid]).cpuSeconds - start) / ((performance.now() - startedAt) / 1000);
};

export async function runStreamsPhase(options: StreamsPhaseOptions): Promise<StreamsPhase> {
  const { server, port, send } = options;
  const pid = server.pid as number;
  const deadline = performance.now() + STREAMS_PHASE_CAP_MS;
  const memory = new ServerMemory(server);
  const everyForSome = Math.max(1, Math.floor(STREAMS / SOME));
  const holder = new Holder(send);
  let streams: Opening<WatchingEditor> | null = null;
  let idle: Opening<IdleConnection> | null = null;
  let refresher: ReturnType<typeof setInterval> | undefined;
  try {
    // Warm the stream route (its modules load on first use), so they do not count as streams'.
    for (let i = 0; i < 20; i++) {
      const warm = await openStream(
        port,
        STREAM_SOURCES[0] as string,
        [`streams:warm-${i}`],
        'bob',
      );
      warm.close();
    }
    await sleep(500);
    const before = await memory.read();

    // The anchor: idle keep-alive connections, as many as there will be streams.
    idle = await openMany(STREAMS, 0, IDLE_IN_FLIGHT, IDLE_CAP_MS, (i) =>
      openIdle(
        port,
        IDLE_SOURCES[i % IDLE_SOURCES.length] as string,
        BLOCKED_USERS[i % BLOCKED_USERS.length] as string,
      ),
    );
    await sleep(500);
    const withIdle = await memory.read();
    const idleClosedEarly = idle.opened.filter((c) => c.closedEarly).length;
    for (const connection of idle.opened) connection.close();
    // The server's sockets go before the streams come, so both never count against its limit.
    const settleBy = performance.now() + 15_000;
    while (openFiles([pid]) > before.openFiles + 50 && performance.now() < settleBy) {
      await sleep(250);
    }
    const afterIdle = await memory.read();

    // The pages the blocked editors wait for, held by another editor, refreshed every poll.
    for (let page = 0; page < BLOCKED_PAGES; page++) await holder.acquire(`streams:page-${page}`);
    await holder.acquire(WATCHED_BY_SOME);
    await holder.acquire(WATCHED_BY_ALL);
    refresher = setInterval(() => void holder.refreshAll(), options.refreshEveryMs);

    const rampCpu = cpuShare(pid);
    const generatorCpu = process.cpuUsage();
    const rampStarted = performance.now();
    streams = await openMany(
      STREAMS,
      RAMP_MS,
      STREAMS_IN_FLIGHT,
      Math.min(RAMP_CAP_MS, deadline - performance.now()),
      (i) =>
        openStream(
          port,
          STREAM_SOURCES[i % STREAM_SOURCES.length] as string,
          idsOf(i, everyForSome),
          BLOCKED_USERS[i % BLOCKED_USERS.length] as string,
        ),
    );
    const rampServerCpu = rampCpu();
    const generatorUsed = process.cpuUsage(generatorCpu);
    const rampGeneratorCpu =
      (generatorUsed.user + generatorUsed.system) /
      1e6 /
      ((performance.now() - rampStarted) / 1000);
    await sleep(1_000);
    const withStreams = await memory.read();

    const open = streams.opened;
    const fanOutCpu = cpuShare(pid);
    const some = await fanOut(
      holder,
      WATCHED_BY_SOME,
      open.filter((stream) => stream.ids.includes(WATCHED_BY_SOME)),
      deadline,
    );
    const all = await fanOut(holder, WATCHED_BY_ALL, open, deadline);
    const fanOutServerCpu = fanOutCpu();

    const closedEarly = new Map<string, number>();
    for (const stream of open) {
      if (stream.closedEarly !== null) {
        closedEarly.set(stream.closedEarly, (closedEarly.get(stream.closedEarly) ?? 0) + 1);
      }
    }
    return {
      target: STREAMS,
      idle,
      idleClosedEarly,
      streams,
      before,
      withIdle,
      afterIdle,
      withStreams,
      rampServerCpu,
      rampGeneratorCpu,
      fanOutServerCpu,
      some,
      all,
      closedEarly,
      holderRefreshFailures: holder.refreshFailures,
      serverFdLimit: openFilesLimit(pid),
      generatorFdLimit: openFilesLimit('self'),
    };
  } finally {
    clearInterval(refresher);
    for (const connection of idle?.opened ?? []) connection.close();
    for (const stream of streams?.opened ?? []) stream.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The report

function quantiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 };
}

const ms = (n: number) => `${n.toFixed(1)} ms`;
const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const count = (n: number) => n.toLocaleString('en-US');
const failuresOf = (failures: Map<string, number>) =>
  failures.size === 0 ? '0' : [...failures].map(([what, n]) => `${count(n)} (${what})`).join(', ');

export function printStreamsPhase(phase: StreamsPhase): void {
  const { before, withIdle, afterIdle, withStreams } = phase;
  const idleOpen = phase.idle.opened.length;
  const streamsOpen = phase.streams.opened.length;
  console.log(
    `\n### Streams: ${count(phase.target)} blocked editors, one event stream each (same server, after the phases above)\n`,
  );
  console.log(
    '| the server holds | open | RSS | RSS growth / conn | heap used (after GC) | heap growth / conn | server fds |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  const row = (what: string, open: number | null, point: MemoryPoint) => {
    const rssPer = open ? kib((1024 * (point.rssKiB - before.rssKiB)) / open) : '–';
    const heapPer = open ? kib((point.heapUsed - before.heapUsed) / open) : '–';
    console.log(
      `| ${what} | ${open === null ? '–' : count(open)} | ${mib(point.rssKiB)} | ${rssPer} | ${mib(point.heapUsed / 1024)} | ${heapPer} | ${count(point.openFiles)} |`,
    );
  };
  row('before (the load phases done)', null, before);
  row('idle keep-alive connections, one GET each (the anchor)', idleOpen, withIdle);
  row('after they closed', null, afterIdle);
  row('event streams (2–3 ids each)', streamsOpen, withStreams);
  const idleRss = (withIdle.rssKiB - before.rssKiB) / idleOpen;
  const idleHeap = (withIdle.heapUsed - before.heapUsed) / idleOpen;
  const streamRss = (withStreams.rssKiB - before.rssKiB) / streamsOpen;
  const streamHeap = (withStreams.heapUsed - before.heapUsed) / streamsOpen;
  console.log('');
  console.log(
    `stream vs idle keep-alive connection, per connection: RSS ${(streamRss / idleRss).toFixed(2)}×, heap ${(streamHeap / idleHeap).toFixed(2)}× (growth over "before"; RSS does not shrink back when connections close, see "after they closed")`,
  );
  const open = quantiles(phase.streams.openMs);
  console.log(
    `ramp: ${count(streamsOpen)} of ${count(phase.target)} streams open in ${phase.streams.seconds.toFixed(1)} s (spread over ${RAMP_MS / 1000} s, ${STREAMS_IN_FLIGHT} opening at most at once); connect to last snapshot p50 ${ms(open.p50)}, p99 ${ms(open.p99)}, max ${ms(open.max)}; server CPU ${Math.round(100 * phase.rampServerCpu)}%, load generator ${Math.round(100 * phase.rampGeneratorCpu)}% of a core; not opened: ${failuresOf(phase.streams.failures)}${phase.streams.stoppedBy ? `; stopped by ${phase.streams.stoppedBy}` : ''}`,
  );
  console.log(
    `anchor: ${count(idleOpen)} of ${count(phase.target)} idle connections open in ${phase.idle.seconds.toFixed(1)} s; not opened: ${failuresOf(phase.idle.failures)}; closed by the server before measured: ${phase.idleClosedEarly}`,
  );
  console.log('');
  console.log(
    '| a release of a page watched by | rounds | events | p50 | p95 | p99 | max | release answered, p50 / max | missed |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const f of [phase.some, phase.all]) {
    const q = quantiles(f.latencies);
    const answer = quantiles(f.releaseAnswers);
    console.log(
      `| ${count(f.watchers)} streams | ${f.rounds} | ${count(f.latencies.length)} | ${ms(q.p50)} | ${ms(q.p95)} | ${ms(q.p99)} | ${ms(q.max)} | ${ms(answer.p50)} / ${ms(answer.max)} | ${f.missed} |`,
    );
  }
  console.log('');
  console.log(
    `fan-out measured from sending the release to each stream's \`released\` event (the streams read in the bench process, on the same 2 cores); last stream of each round: ${phase.some.roundMax.map((x) => x.toFixed(0)).join(', ')} ms (${count(phase.some.watchers)}), ${phase.all.roundMax.map((x) => x.toFixed(0)).join(', ')} ms (${count(phase.all.watchers)}); server CPU during the rounds ${Math.round(100 * phase.fanOutServerCpu)}%`,
  );
  const closed = [...phase.closedEarly.values()].reduce((a, b) => a + b, 0);
  console.log(
    `streams closed early: ${closed}${closed ? ` (${failuresOf(phase.closedEarly)})` : ''}; holder refreshes refused: ${phase.holderRefreshFailures}; open-files limit: server ${phase.serverFdLimit}, load generator ${phase.generatorFdLimit}`,
  );
}
