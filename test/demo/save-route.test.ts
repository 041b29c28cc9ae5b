import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DemoApp, loadDemoApp, silentlyOverwritten } from './demo-app';

const TTL = 10_000;
const HOUR = 3_600_000;

/** A gate a test opens when it chooses. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

/** Lets the routes run up to their next await on something the test holds. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

// One demo per file: its lock routes keep the service they were first built with.
let app: DemoApp;

beforeAll(async () => {
  app = await loadDemoApp({ ttl: TTL, start: Date.UTC(2026, 11, 1, 9) });
});
afterAll(() => app?.stop());
beforeEach(() => {
  // Every test on fresh content, an hour after the last: the leases of earlier tests lapsed.
  app.clock.now += HOUR;
  app.afterCheck = null;
  app.saves = [];
  app.freshContent();
});

describe("the demo's save route (issue 9, scenarios 2a–2c), in-process over SQLite", () => {
  it('2a: refuses a slow upload whose body arrives after the lease lapsed and Bob saved', async () => {
    const alice = await app.acquire('alice', 'page:1');
    expect(alice.status).toBe(200);
    const loaded = await app.getPage('alice', 1);

    // Alice's upload starts, and stalls after its first bytes.
    const json = JSON.stringify({
      title: 'Alice',
      body: 'Alice’s long text',
      version: loaded.version,
    });
    const encoder = new TextEncoder();
    let push: ReadableStreamDefaultController<Uint8Array> | undefined;
    const upload = new ReadableStream<Uint8Array>({
      start(controller) {
        push = controller;
        controller.enqueue(encoder.encode(json.slice(0, 10)));
      },
    });
    const aliceAnswer = app.put('alice', 1, alice.token ?? null, upload);
    await settle();

    // Her lease lapses; Bob acquires the page, loads it and saves.
    app.clock.now += TTL + 1;
    const bob = await app.acquire('bob', 'page:1');
    expect(bob.status).toBe(200);
    const bobCopy = await app.getPage('bob', 1);
    const bobSave = await app.save('bob', 1, bob.token ?? null, {
      title: 'Bob',
      body: 'Bob’s text',
      sentVersion: bobCopy.version,
    });
    expect(bobSave.status).toBe(200);

    // Only now does the rest of Alice's body arrive: the check runs after it, and refuses.
    push?.enqueue(encoder.encode(json.slice(10)));
    push?.close();
    const response = await aliceAnswer;
    expect(response.status).toBe(423);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'lock-not-held',
    );

    const page = await app.getPage('bob', 1);
    expect([page.title, page.body]).toEqual(['Bob', 'Bob’s text']);
    expect(silentlyOverwritten(app.saves, page)).toEqual([]);
  });

  it('2b: Alice’s write checked before her lease lapsed lands after Bob acquired; Bob’s save from his older copy is a 409', async () => {
    const alice = await app.acquire('alice', 'page:1');
    const aliceCopy = await app.getPage('alice', 1);

    // Alice's save passes the check just before her lease lapses, then stalls before its write.
    const checked = gate();
    const resume = gate();
    app.afterCheck = async (token) => {
      if (token !== alice.token) return;
      checked.open();
      await resume.wait;
    };
    app.clock.now += TTL - 1;
    const aliceSave = app.save('alice', 1, alice.token ?? null, {
      title: 'Alice',
      body: 'Alice’s text',
      sentVersion: aliceCopy.version,
    });
    await checked.wait;

    // The lease lapses; Bob acquires and loads the page as it still is (Alice's write is late).
    app.clock.now += 2;
    const bob = await app.acquire('bob', 'page:1');
    expect(bob.status).toBe(200);
    expect(bob.fence).toBeGreaterThan(0);
    const bobCopy = await app.getPage('bob', 1);
    expect(bobCopy.version).toBe(aliceCopy.version);

    // Alice's write lands: it was checked while she held the page, and nobody saved since.
    resume.open();
    expect((await aliceSave).status).toBe(200);

    // Bob saves from his copy, older than Alice's accepted write: refused, not an overwrite.
    const bobSave = await app.save('bob', 1, bob.token ?? null, {
      title: 'Bob',
      body: 'Bob’s text',
      sentVersion: bobCopy.version,
    });
    expect(bobSave.status).toBe(409);
    let page = await app.getPage('bob', 1);
    expect([page.title, page.body]).toEqual(['Alice', 'Alice’s text']);
    expect(silentlyOverwritten(app.saves, page)).toEqual([]);

    // Bob reloads, sees Alice's text, and saves over it knowingly.
    const reloaded = await app.getPage('bob', 1);
    const again = await app.save('bob', 1, bob.token ?? null, {
      title: 'Bob',
      body: 'Bob’s text, after reading Alice’s',
      sentVersion: reloaded.version,
    });
    expect(again.status).toBe(200);
    page = await app.getPage('bob', 1);
    expect(page.fence).toBe(bob.fence);
    expect(silentlyOverwritten(app.saves, page)).toEqual([]);
  });

  it('2b, the other order: Bob saves first, and Alice’s late write is refused (409), not a 200', async () => {
    const alice = await app.acquire('alice', 'page:2');
    const aliceCopy = await app.getPage('alice', 2);
    const checked = gate();
    const resume = gate();
    app.afterCheck = async (token) => {
      if (token !== alice.token) return;
      checked.open();
      await resume.wait;
    };
    app.clock.now += TTL - 1;
    const aliceSave = app.save('alice', 2, alice.token ?? null, {
      title: 'Alice',
      body: 'Alice’s text',
      sentVersion: aliceCopy.version,
    });
    await checked.wait;

    app.clock.now += 2;
    const bob = await app.acquire('bob', 'page:2');
    const bobCopy = await app.getPage('bob', 2);
    const bobSave = await app.save('bob', 2, bob.token ?? null, {
      title: 'Bob',
      body: 'Bob’s text',
      sentVersion: bobCopy.version,
    });
    expect(bobSave.status).toBe(200);

    resume.open();
    const late = await aliceSave;
    expect(late.status).toBe(409);
    const page = await app.getPage('bob', 2);
    expect([page.title, page.body]).toEqual(['Bob', 'Bob’s text']);
    expect(silentlyOverwritten(app.saves, page)).toEqual([]);
  });

  it('2c: refuses Alice’s token presented under Bob’s session', async () => {
    const alice = await app.acquire('alice', 'page:3');
    expect(alice.status).toBe(200);
    const copy = await app.getPage('bob', 3);
    const stolen = await app.save('bob', 3, alice.token ?? null, {
      title: 'Bob',
      body: 'Bob, with Alice’s token',
      sentVersion: copy.version,
    });
    expect(stolen.status).toBe(423);
    const page = await app.getPage('alice', 3);
    expect(page.version).toBe(copy.version);
    expect(page.title).toBe('Pricing');
    // Alice's own save with it still goes through.
    const own = await app.save('alice', 3, alice.token ?? null, {
      title: 'Pricing',
      body: 'Alice’s text',
      sentVersion: copy.version,
    });
    expect(own.status).toBe(200);
  });
});

describe("the demo's page API", () => {
  it('GET answers { id, title, body, version, fence }; a save answers the next version', async () => {
    expect(await app.getPage('alice', 1)).toEqual({
      id: 1,
      title: 'Home',
      body: expect.stringContaining('Welcome'),
      version: 1,
      fence: 0,
    });
    const alice = await app.acquire('alice', 'page:1');
    const response = await app.put(
      'alice',
      1,
      alice.token ?? null,
      JSON.stringify({ title: 'Home', body: 'New', version: 1 }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ version: 2 });
    expect(await app.getPage('alice', 1)).toMatchObject({
      body: 'New',
      version: 2,
      fence: alice.fence,
    });
  });

  it('refuses a save without a token (423, naming the holder) and one with a stale version (409)', async () => {
    const alice = await app.acquire('alice', 'page:2');
    const noToken = await app.put(
      'bob',
      2,
      null,
      JSON.stringify({ title: 't', body: 'b', version: 1 }),
    );
    expect(noToken.status).toBe(423);
    expect(await noToken.json()).toMatchObject({
      error: { code: 'lock-not-held' },
      lock: { holder: { name: 'Alice' } },
    });
    const stale = await app.put(
      'alice',
      2,
      alice.token ?? null,
      JSON.stringify({ title: 't', body: 'b', version: 7 }),
    );
    expect(stale.status).toBe(409);
    expect(await stale.json()).toMatchObject({
      error: { code: 'conflict', message: expect.stringContaining('changed since you opened it') },
    });
  });

  it.each([
    ['not JSON', 'title=x'],
    ['an array', '[]'],
    ['no version', JSON.stringify({ title: 't', body: 'b' })],
    ['a version that is not an integer', JSON.stringify({ title: 't', body: 'b', version: 1.5 })],
    ['a version as a string', JSON.stringify({ title: 't', body: 'b', version: '1' })],
    ['a title that is not a string', JSON.stringify({ title: 1, body: 'b', version: 1 })],
    ['no body', JSON.stringify({ title: 't', version: 1 })],
    ['a title too long', JSON.stringify({ title: 'x'.repeat(201), body: 'b', version: 1 })],
  ])('answers 400 with a message to a save with %s', async (_what, body) => {
    const alice = await app.acquire('alice', 'page:3');
    const response = await app.put('alice', 3, alice.token ?? null, body);
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { error: { code: string; message: string } };
    expect(answer.error.code).toBe('bad-request');
    expect(answer.error.message.length).toBeGreaterThan(10);
    expect((await app.getPage('alice', 3)).version).toBe(1);
  });

  it('answers 401 without a session and 404 for a page that does not exist', async () => {
    expect((await app.put('nobody', 1, null, '{}')).status).toBe(401);
    const carol = await app.acquire('carol', 'page:99');
    const missing = await app.put(
      'carol',
      99,
      carol.token ?? null,
      JSON.stringify({ title: 't', body: 'b', version: 1 }),
    );
    expect(missing.status).toBe(404);
    expect((await app.put('carol', Number.NaN, null, '{}')).status).toBe(404);
  });

  it('adds the version column to a content database from before it, and saves there', async () => {
    const dir = app.freshContent();
    const old = new Database(path.join(dir, 'content.db'));
    old.exec(`CREATE TABLE pages (
      id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL,
      fence INTEGER NOT NULL DEFAULT 0, updated_at INTEGER, updated_by TEXT
    )`);
    old.prepare('INSERT INTO pages (title, body, fence) VALUES (?, ?, ?)').run('Old', 'Kept', 0);
    old.close();

    expect(await app.getPage('alice', 1)).toEqual({
      id: 1,
      title: 'Old',
      body: 'Kept',
      version: 1,
      fence: 0,
    });
    const alice = await app.acquire('alice', 'page:1');
    const response = await app.put(
      'alice',
      1,
      alice.token ?? null,
      JSON.stringify({ title: 'Old', body: 'Saved after the migration', version: 1 }),
    );
    expect(response.status).toBe(200);
    expect(await app.getPage('alice', 1)).toMatchObject({
      body: 'Saved after the migration',
      version: 2,
    });
  });
});
