/**
 * `npm run bench:load`: the demo's lock route under `next start` on SQLite, loaded by 10,000
 * simulated editors, against a Next route handler that answers a constant JSON on the same
 * server (the anchor); then 10,000 blocked editors holding event streams on the same server.
 * Loopback only (127.0.0.1 and other loopback addresses), about 3–4 minutes, stops by itself;
 * never part of `npm test`.
 *
 * Each editor is a tab with its own `clientId` and a session cookie: it acquires its page,
 * refreshes every (compressed) poll and releases at the end. One editor in ten opens a page
 * another user holds: it gets a 423 and observes (GET) every poll instead, as blocked tabs do.
 * Editors arrive over a ramp, then all of them poll for a while. The requests go through one
 * keep-alive agent (Node's own http), as a proxy in front of the server would pool them.
 *
 * Phases: ramp + steady load on the lock route (latency, errors, server CPU and RSS read from
 * /proc of the next-server process); the constant route at the same rate; then each route's
 * maximum (requests back to back on a fixed number of connections); then the streams phase
 * (bench/load-streams.ts: memory per open stream against idle keep-alive connections, fan-out
 * latency of a release).
 *
 * The server is `next start` through bench/load-next-server.mjs: Next's own command line in the
 * same process, with a longer keep-alive timeout and a memory probe for the streams phase.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEMO_DIR, ensureDemoBuilt, NEXT_BIN } from '../test/e2e/support/demo-build';
import { freePort, startNextServer, stopNextServer } from '../test/e2e/support/next-server';
import { processTree, watchServer } from './load-proc';
import { printStreamsPhase, runStreamsPhase, STREAMS, STREAMS_PHASE_CAP_MS } from './load-streams';

const EDITORS = Number(process.env.LOAD_EDITORS ?? 10_000);
/** The real poll (the library's default) and the compressed one the bench runs at. */
const REAL_POLL_MS = 10_000;
const POLL_MS = Number(process.env.LOAD_POLL_MS ?? 8_000);
const TTL_MS = POLL_MS * 4;
const RAMP_MS = Number(process.env.LOAD_RAMP_MS ?? 20_000);
const STEADY_MS = Number(process.env.LOAD_STEADY_MS ?? 30_000);
const SAME_RATE_MS = 15_000;
/** Editors leave over this long at the end. */
const RELEASE_MS = 10_000;
const MAX_MS = 8_000;
const MAX_CONNECTIONS = 32;
const BLOCKED_EVERY = 10;
/** Whatever happens, the bench ends by then (the server is stopped, the process exits). */
const HARD_DEADLINE_MS = 150_000 + STREAMS_PHASE_CAP_MS + 30_000;
/** The server keeps idle keep-alive connections this long (the streams phase's anchor holds them). */
const KEEP_ALIVE_MS = 120_000;
const NEXT_WRAPPER = path.join(import.meta.dirname, 'load-next-server.mjs');
const USERS = ['alice', 'bob', 'carol'];
const REQUEST_TIMEOUT_MS = 10_000;

interface Sample {
  ms: number;
  ok: boolean;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

interface Answer {
  status: number;
  body: string;
}

function send(
  port: number,
  method: 'GET' | 'POST',
  pathname: string,
  user: string,
  body?: unknown,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: pathname,
        agent,
        headers: {
          cookie: `page-lock-demo-user=${user}`,
          'sec-fetch-site': 'same-origin',
          ...(payload === undefined
            ? {}
            : {
                'content-type': 'application/json',
                'content-length': Buffer.byteLength(payload),
              }),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    // An answer that takes longer than this is an error, and the bench stays bounded in time.
    request.setTimeout(REQUEST_TIMEOUT_MS, () =>
      request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)),
    );
    request.end(payload);
  });
}

/** Latencies and failures of one phase. */
class Recorder {
  readonly samples: Sample[] = [];
  readonly failures = new Map<string, number>();
  started = performance.now();
  ended = 0;

  async time(run: () => Promise<Answer>, expected: (status: number) => boolean): Promise<Answer> {
    const start = performance.now();
    try {
      const answer = await run();
      const ok = expected(answer.status);
      this.samples.push({ ms: performance.now() - start, ok });
      if (!ok) this.fail(`HTTP ${answer.status}`);
      return answer;
    } catch (error) {
      this.samples.push({ ms: performance.now() - start, ok: false });
      this.fail((error as Error).message);
      return { status: 0, body: '' };
    }
  }

  fail(what: string): void {
    this.failures.set(what, (this.failures.get(what) ?? 0) + 1);
  }

  stop(): void {
    this.ended = performance.now();
  }

  summary() {
    const sorted = this.samples.map((s) => s.ms).sort((a, b) => a - b);
    const at = (q: number) =>
      sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    const seconds = ((this.ended || performance.now()) - this.started) / 1000;
    return {
      requests: sorted.length,
      perSecond: sorted.length / seconds,
      p50: at(0.5),
      p95: at(0.95),
      p99: at(0.99),
      max: sorted[sorted.length - 1] ?? 0,
      errors: this.samples.filter((s) => !s.ok).length,
      failures: Object.fromEntries(this.failures),
    };
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Editor {
  user: string;
  clientId: string;
  resourceId: string;
  token: string | null;
  blocked: boolean;
}

/**
 * The editors: acquire, refresh every poll (observe when blocked), release at the end. Returns
 * the recorder of the whole run and when the steady part began.
 */
async function runEditors(port: number, steady: Recorder, ramp: Recorder) {
  const editors: Editor[] = [];
  let stopping = false;
  let recorder = ramp;
  const base = '/api/locks/';
  const poll = async (editor: Editor): Promise<void> => {
    while (!stopping) {
      const id = encodeURIComponent(editor.resourceId);
      if (editor.blocked || editor.token === null) {
        const answer = await recorder.time(
          () =>
            editor.token === null && !editor.blocked
              ? send(port, 'POST', base + id, editor.user, { clientId: editor.clientId })
              : send(port, 'GET', `${base}${id}?clientId=${editor.clientId}`, editor.user),
          (status) => status === 200 || status === 423,
        );
        if (!editor.blocked && answer.status === 200) {
          editor.token = (JSON.parse(answer.body) as { token: string }).token;
        }
      } else {
        const answer = await recorder.time(
          () =>
            send(port, 'POST', base + id, editor.user, {
              clientId: editor.clientId,
              token: editor.token,
            }),
          (status) => status === 200,
        );
        if (answer.status === 200) {
          editor.token = (JSON.parse(answer.body) as { token: string }).token;
        }
      }
      // The next poll, with a little jitter so the editors do not fall into step.
      await sleep(POLL_MS * (0.9 + Math.random() * 0.2));
    }
  };

  const loops: Promise<void>[] = [];
  const rampStarted = performance.now();
  for (let i = 0; i < EDITORS; i++) {
    const blocked = i % BLOCKED_EVERY === BLOCKED_EVERY - 1;
    // A blocked editor opens the page of the editor before it, as another user.
    const page = blocked ? i - 1 : i;
    const editor: Editor = {
      user: USERS[(i + (blocked ? 1 : 0)) % USERS.length] as string,
      clientId: `load-${i}-${Math.random().toString(36).slice(2, 10)}`,
      resourceId: `page:${page}`,
      token: null,
      blocked,
    };
    editors.push(editor);
    if (blocked) {
      // Blocked editors ask once to acquire (a 423), then observe.
      loops.push(
        (async () => {
          await recorder.time(
            () =>
              send(port, 'POST', base + encodeURIComponent(editor.resourceId), editor.user, {
                clientId: editor.clientId,
              }),
            (status) => status === 423 || status === 200,
          );
          await sleep(POLL_MS * Math.random());
          await poll(editor);
        })(),
      );
    } else {
      loops.push(poll(editor));
    }
    const due = rampStarted + (RAMP_MS * (i + 1)) / EDITORS;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
  }
  ramp.stop();
  recorder = steady;
  steady.started = performance.now();
  await sleep(STEADY_MS);
  steady.stop();
  stopping = true;
  // Every editor leaves (the sendBeacon release), spread over a few seconds as tabs close.
  const releases = new Recorder();
  const leaving = editors.filter((e) => e.token !== null && !e.blocked);
  await Promise.all(
    leaving.map(async (e, i) => {
      await sleep((RELEASE_MS * i) / leaving.length);
      await releases.time(
        () =>
          send(port, 'POST', `${base}${encodeURIComponent(e.resourceId)}/release`, e.user, {
            token: e.token,
          }),
        (status) => status === 204,
      );
    }),
  );
  releases.stop();
  await Promise.race([Promise.all(loops), sleep(POLL_MS * 1.2)]);
  return { editors, releases };
}

/** Open loop: `rate` requests per second for `ms`, whatever the answers take. */
async function atRate(rate: number, ms: number, request: () => Promise<Answer>): Promise<Recorder> {
  const recorder = new Recorder();
  const inFlight: Promise<unknown>[] = [];
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < ms) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    while (sent < due) {
      inFlight.push(recorder.time(request, (status) => status === 200));
      sent++;
    }
    await sleep(2);
  }
  await Promise.all(inFlight);
  recorder.stop();
  return recorder;
}

/** Closed loop: `connections` requests back to back for `ms`. */
async function atMaximum(ms: number, request: () => Promise<Answer>): Promise<Recorder> {
  const recorder = new Recorder();
  const until = performance.now() + ms;
  await Promise.all(
    Array.from({ length: MAX_CONNECTIONS }, async () => {
      while (performance.now() < until) await recorder.time(request, (status) => status === 200);
    }),
  );
  recorder.stop();
  return recorder;
}

/** The demo on loopback, with the bench's anchor route switched on; ready once that answers. */
function startServer(port: number, dataDir: string): Promise<ChildProcess> {
  return startNextServer({
    cwd: DEMO_DIR,
    nextBin: NEXT_WRAPPER,
    port,
    hostname: '127.0.0.1',
    label: 'bench:load',
    env: {
      PAGE_LOCK_DATA_DIR: dataDir,
      PAGE_LOCK_TTL_MS: String(TTL_MS),
      PAGE_LOCK_POLL_MS: String(POLL_MS),
      PAGE_LOCK_BENCH_CONSTANT: '1',
      PAGE_LOCK_LOAD_NEXT_BIN: NEXT_BIN,
      PAGE_LOCK_LOAD_KEEP_ALIVE_MS: String(KEEP_ALIVE_MS),
      PAGE_LOCK_REDIS_URL: '',
      PAGE_LOCK_POSTGRES_URL: '',
    },
    isReady: async () => (await send(port, 'GET', '/api/bench-constant', 'alice')).status === 200,
  });
}

const ms = (n: number) => `${n.toFixed(1)} ms`;

async function main() {
  ensureDemoBuilt((line) => console.log(line));
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'page-lock-load-'));
  const child = await startServer(port, dataDir);
  const hardStop = setTimeout(() => {
    console.error('[page-lock] [bench:load] Hard deadline reached: stopping');
    void stopNextServer(child);
    process.exit(1);
  }, HARD_DEADLINE_MS);
  hardStop.unref();
  const pids = () => processTree(child.pid as number);
  try {
    // Warm both routes (Next compiles nothing at run time, but loads modules on first use).
    for (let i = 0; i < 50; i++) {
      await send(port, 'POST', '/api/locks/warm', 'alice', { clientId: `warm-${i}` });
      await send(port, 'POST', '/api/bench-constant', 'alice', { clientId: 'warm' });
    }

    console.log(
      `page-lock load test — ${new Date().toISOString()}, Node ${process.version}, ${EDITORS} editors, poll ${POLL_MS} ms (compressed from ${REAL_POLL_MS}), ttl ${TTL_MS} ms, ramp ${RAMP_MS / 1000} s, steady ${STEADY_MS / 1000} s; then ${STREAMS} event streams\n`,
    );
    const ramp = new Recorder();
    const steady = new Recorder();
    const watching = watchServer(pids);
    const generatorCpu = process.cpuUsage();
    const { editors, releases } = await runEditors(port, steady, ramp);
    const server = watching();
    const generator = process.cpuUsage(generatorCpu);
    const s = steady.summary();
    const r = ramp.summary();
    const rel = releases.summary();
    const blocked = editors.filter((e) => e.blocked).length;
    // At the real poll each editor sends one request per poll: per minute, 60 s / poll.
    const perEditorMinute = (s.perSecond / EDITORS) * 60 * (POLL_MS / REAL_POLL_MS);

    const constantRate = await (async () => {
      const watch = watchServer(pids);
      let i = 0;
      const recorder = await atRate(s.perSecond, SAME_RATE_MS, () =>
        send(port, 'POST', '/api/bench-constant', 'alice', { clientId: `c-${i++}`, token: 'x' }),
      );
      return { recorder, server: watch() };
    })();

    // Each route's maximum: refreshes of held leases, back to back.
    const holders: Editor[] = [];
    for (const e of editors.filter((editor) => !editor.blocked).slice(0, 500)) {
      const answer = await send(
        port,
        'POST',
        `/api/locks/${encodeURIComponent(e.resourceId)}`,
        e.user,
        {
          clientId: e.clientId,
        },
      );
      if (answer.status !== 200) continue;
      e.token = (JSON.parse(answer.body) as { token: string }).token;
      holders.push(e);
    }
    let next = 0;
    const lockWatch = watchServer(pids);
    const lockMax = await atMaximum(MAX_MS, async () => {
      const e = holders[next++ % holders.length] as Editor;
      const answer = await send(
        port,
        'POST',
        `/api/locks/${encodeURIComponent(e.resourceId)}`,
        e.user,
        {
          clientId: e.clientId,
          token: e.token,
        },
      );
      if (answer.status === 200) e.token = (JSON.parse(answer.body) as { token: string }).token;
      return answer;
    });
    const lockMaxServer = lockWatch();
    const constantWatch = watchServer(pids);
    const constantMax = await atMaximum(MAX_MS, () =>
      send(port, 'POST', '/api/bench-constant', 'alice', { clientId: 'x', token: 'y' }),
    );
    const constantMaxServer = constantWatch();

    const c = constantRate.recorder.summary();
    const lm = lockMax.summary();
    const cm = constantMax.summary();
    console.log('| phase | req/s | p50 | p95 | p99 | max | errors | server CPU | server RSS |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    const row = (
      name: string,
      x: ReturnType<Recorder['summary']>,
      srv?: { cpuPercent: number; rssMiB: number },
    ) =>
      console.log(
        `| ${name} | ${Math.round(x.perSecond)} | ${ms(x.p50)} | ${ms(x.p95)} | ${ms(x.p99)} | ${ms(x.max)} | ${x.errors} | ${srv ? `${Math.round(srv.cpuPercent)}%` : ''} | ${srv ? `${Math.round(srv.rssMiB)} MiB` : ''} |`,
      );
    row(`lock route, ramp to ${EDITORS} editors`, r);
    row(`lock route, ${EDITORS} editors (${blocked} blocked, observing)`, s, server);
    row('lock route, releases at the end', rel);
    row('constant route at the same rate', c, constantRate.server);
    row(`lock route at its maximum (${MAX_CONNECTIONS} connections, refreshes)`, lm, lockMaxServer);
    row(`constant route at its maximum (${MAX_CONNECTIONS} connections)`, cm, constantMaxServer);
    console.log('');
    console.log(
      `requests per editor-minute at the real ${REAL_POLL_MS / 1000} s poll: ${perEditorMinute.toFixed(2)}`,
    );
    console.log(
      `lock route maximum vs constant route maximum: ${(lm.perSecond / cm.perSecond).toFixed(2)}×`,
    );
    console.log(
      `p99 vs the constant route at the same rate: ${ms(s.p99)} vs ${ms(c.p99)}; load generator CPU ${Math.round((100 * (generator.user + generator.system)) / 1e6 / ((STEADY_MS + RAMP_MS) / 1000))}% of a core (same machine)`,
    );
    console.log(
      `offered at full load: ${Math.round((EDITORS * 1000) / POLL_MS)} req/s (one request per editor per poll); served ${Math.round(s.perSecond)} req/s`,
    );
    for (const [name, x] of [
      ['ramp', r],
      ['steady', s],
      ['releases', rel],
      ['constant, same rate', c],
      ['lock, maximum', lm],
      ['constant, maximum', cm],
    ] as const) {
      if (Object.keys(x.failures).length > 0) console.log(`failures (${name}):`, x.failures);
    }

    // The load phases' pooled connections go, so the streams phase counts only its own.
    agent.destroy();
    printStreamsPhase(
      await runStreamsPhase({
        server: child,
        port,
        send: (method, pathname, user, body) => send(port, method, pathname, user, body),
        refreshEveryMs: POLL_MS,
      }),
    );
  } finally {
    clearTimeout(hardStop);
    await stopNextServer(child);
    agent.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
