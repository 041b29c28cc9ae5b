import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSnippets, readmeSection } from '../quick-start/readme-snippets';

/**
 * The README's "Saving safely" route, exactly as printed: extracted from README.md, written
 * next to tiny real modules it imports (a better-sqlite3 content table, a lock service over the
 * SQLite store with a clock this test moves, a session), typechecked with the repository's
 * compiler settings, and run with real Requests.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
/** The file the fenced block this test runs names on its first line. */
const SAVE_ROUTE = 'app/api/pages/[id]/route.ts';
const TTL = 10_000;

/**
 * The ```ts block of README.md's "Saving safely" that starts with `// app/api/pages/[id]/route.ts`
 * (the quick start, `test/quick-start/`, builds the same block into its app).
 */
function extractSaveSnippet(readme: string): string {
  const snippet = fileSnippets(readmeSection(readme, '### Saving safely')).get(SAVE_ROUTE);
  if (!snippet) {
    throw new Error(`"Saving safely" has no \`\`\`ts block starting with // ${SAVE_ROUTE}`);
  }
  return snippet;
}

/** The modules the snippet imports, as small as they can be and real. */
function supportModules(dir: string): Record<string, string> {
  const sqlite = (name: string) => JSON.stringify(path.join(dir, name));
  return {
    'lib/db.ts': `import Database from 'better-sqlite3';

export const db = new Database(${sqlite('content.db')});
db.exec(\`CREATE TABLE pages (
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  fence INTEGER NOT NULL DEFAULT 0
)\`);
db.prepare("INSERT INTO pages (id, title, body) VALUES (1, 'Home', 'Welcome'), (2, 'About', 'Us')").run();
`,
    'lib/locks.ts': `import { createLockService } from 'page-lock/server';
import { createSqliteLockStore } from 'page-lock/sqlite';

export const clock = { now: Date.UTC(2026, 11, 1, 9) };
export const store = createSqliteLockStore({ filename: ${sqlite('locks.db')} });
export const locks = createLockService({ store, ttl: ${TTL}, now: () => clock.now });
`,
    'lib/session.ts': `import type { LockUser } from 'page-lock/server';

/** The signed-in user: here the \`X-User\` header stands for the application's session. */
export function getUser(request: Request): LockUser | null {
  const id = request.headers.get('X-User');
  return id ? { id, name: id } : null;
}
`,
  };
}

/** Type errors in the files under `dir`, with the repository's strict compiler settings. */
function typeErrors(dir: string, files: readonly string[]): string[] {
  const configFile = path.join(ROOT, 'tsconfig.json');
  const { config } = ts.readConfigFile(configFile, ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT, undefined, configFile);
  const entry = (file: string) => [path.join(ROOT, file)];
  const program = ts.createProgram(files, {
    ...options,
    noEmit: true,
    // What a user's app resolves through the package's exports, mapped to the source here.
    paths: {
      'page-lock/server': entry('server-adapter/index.ts'),
      'page-lock/sqlite': entry('server-adapter/sqlite/index.ts'),
    },
    typeRoots: [path.join(ROOT, 'node_modules/@types')],
  });
  const ours = program.getSourceFiles().filter((file) => file.fileName.startsWith(dir));
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...ours.flatMap((file) => [
      ...program.getSyntacticDiagnostics(file),
      ...program.getSemanticDiagnostics(file),
    ]),
  ];
  return diagnostics.map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (!diagnostic.file || diagnostic.start === undefined) return message;
    const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    return `${path.relative(dir, diagnostic.file.fileName)}:${line + 1}:${character + 1} ${message}`;
  });
}

type Handler = (
  request: Request,
  context: { params: Promise<{ id: string }> },
) => Promise<Response>;

interface LockService {
  acquire(
    resourceId: string,
    user: { id: string; name: string },
    options: { clientId: string },
  ): Promise<{ status: string; token?: string; lock?: { fence: number } }>;
  release(resourceId: string, token: string): Promise<unknown>;
}

describe('the README "Saving safely" snippet', () => {
  let dir: string;
  let routeFile: string;
  let PUT: Handler;
  let locks: LockService;
  let clock: { now: number };
  let db: {
    prepare(sql: string): { get(...args: unknown[]): unknown; run(...args: unknown[]): unknown };
  };
  let store: { close(): void };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'page-lock-readme-snippet-'));
    // The snippet's bare imports (better-sqlite3 and its types) resolve as in an app.
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const files = {
      'app/api/pages/[id]/route.ts': extractSaveSnippet(
        readFileSync(path.join(ROOT, 'README.md'), 'utf8'),
      ),
      ...supportModules(dir),
    };
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), text);
    }
    routeFile = path.join(dir, 'app/api/pages/[id]/route.ts');
    ({ PUT } = (await import(routeFile)) as { PUT: Handler });
    ({ locks, clock, store } = await import(path.join(dir, 'lib/locks.ts')));
    ({ db } = await import(path.join(dir, 'lib/db.ts')));
  });
  afterAll(() => {
    store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const put = (user: string | null, id: number, token: string | null, body: BodyInit) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (user) headers['X-User'] = user;
    if (token) headers['Page-Lock-Token'] = token;
    const init: RequestInit & { duplex?: 'half' } = { method: 'PUT', headers, body };
    if (body instanceof ReadableStream) init.duplex = 'half';
    return PUT(new Request(`http://127.0.0.1:3000/api/pages/${id}`, init), {
      params: Promise.resolve({ id: String(id) }),
    });
  };
  const edit = (version: number, text = 'Edited') =>
    JSON.stringify({ title: 'Home', body: text, version });
  const acquire = async (user: string, id: number) => {
    const result = await locks.acquire(
      `page:${id}`,
      { id: user, name: user },
      {
        clientId: crypto.randomUUID(),
      },
    );
    if (result.status !== 'held' || !result.token || !result.lock) {
      throw new Error(`${user} did not get page:${id}: ${result.status}`);
    }
    return { token: result.token, fence: result.lock.fence };
  };
  const row = (id: number) =>
    db.prepare('SELECT title, body, version, fence FROM pages WHERE id = ?').get(id) as {
      body: string;
      version: number;
      fence: number;
    };

  it('typechecks with the repository’s compiler settings', () => {
    const started = performance.now();
    const errors = typeErrors(dir, [routeFile]);
    console.log(
      `[page-lock] [docs] typechecked the README snippet in ${Math.round(performance.now() - started)} ms`,
    );
    expect(errors).toEqual([]);
  });

  it('saves with a held lock (200, the next version), then refuses the same stale version (409)', async () => {
    const alice = await acquire('alice', 1);
    const saved = await put('alice', 1, alice.token, edit(1, 'First'));
    expect(saved.status).toBe(200);
    expect(await saved.json()).toEqual({ version: 2 });
    expect(row(1)).toMatchObject({ body: 'First', version: 2, fence: alice.fence });

    const stale = await put('alice', 1, alice.token, edit(1, 'From the old copy'));
    expect(stale.status).toBe(409);
    expect(await stale.json()).toMatchObject({ error: { code: 'conflict' } });
    expect(row(1)).toMatchObject({ body: 'First', version: 2 });
    await locks.release('page:1', alice.token);
  });

  it('refuses a dead token (423): released, lapsed, or another user’s', async () => {
    const alice = await acquire('alice', 1);
    const { version } = row(1);
    await locks.release('page:1', alice.token);
    const released = await put('alice', 1, alice.token, edit(version));
    expect(released.status).toBe(423);
    expect(await released.json()).toMatchObject({
      error: { code: 'lock-not-held' },
      reason: 'released',
    });

    const again = await acquire('alice', 1);
    clock.now += TTL + 1;
    expect((await put('alice', 1, again.token, edit(version))).status).toBe(423);

    const bobsTab = await acquire('bob', 1);
    expect((await put('alice', 1, bobsTab.token, edit(version))).status).toBe(423);
    expect((await put('alice', 1, null, edit(version))).status).toBe(423);
    expect(row(1).version).toBe(version);
    await locks.release('page:1', bobsTab.token);
  });

  it('never answers 200 to a write that changed no row: an older fence, a missing page', async () => {
    const carol = await acquire('carol', 2);
    // A newer holder's save is stored already (its fence is larger than Carol's).
    db.prepare('UPDATE pages SET fence = ? WHERE id = 2').run(carol.fence + 1);
    const underOlderFence = await put('carol', 2, carol.token, edit(1));
    expect(underOlderFence.status).toBe(409);
    expect(row(2)).toMatchObject({ body: 'Us', version: 1 });

    const ghost = await acquire('carol', 404);
    expect((await put('carol', 404, ghost.token, edit(1))).status).toBe(409);
  });

  it('checks the lock after the body arrived: a slow upload that outlived its lease is refused', async () => {
    clock.now += TTL * 10;
    const alice = await acquire('alice', 1);
    const { version } = row(1);
    const json = edit(version, 'Slow');
    let push: ReadableStreamDefaultController<Uint8Array> | undefined;
    const upload = new ReadableStream<Uint8Array>({
      start(controller) {
        push = controller;
        controller.enqueue(new TextEncoder().encode(json.slice(0, 5)));
      },
    });
    const answer = put('alice', 1, alice.token, upload);
    await new Promise((resolve) => setTimeout(resolve, 20));
    clock.now += TTL + 1;
    push?.enqueue(new TextEncoder().encode(json.slice(5)));
    push?.close();
    expect((await answer).status).toBe(423);
    expect(row(1).body).not.toBe('Slow');
  });

  it('answers 400 to a body it cannot use and 401 without a user', async () => {
    const alice = await acquire('alice', 2);
    expect((await put('alice', 2, alice.token, 'not json')).status).toBe(400);
    expect((await put('alice', 2, alice.token, JSON.stringify({ title: 'x' }))).status).toBe(400);
    expect((await put(null, 2, alice.token, edit(1))).status).toBe(401);
  });
});
