import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteLockStore } from '../../server-adapter/sqlite/sqlite-store';
import type { LockStore } from '../../server-adapter/store/lock-store';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import { BASE, createHarness, json } from './handler-harness';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const stores: [string, () => LockStore][] = [
  ['memory', () => createMemoryLockStore()],
  [
    'sqlite',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'page-lock-holder-'));
      dirs.push(dir);
      return createSqliteLockStore({ filename: join(dir, 'locks.db') });
    },
  ],
];

describe.each(stores)(
  '%s store: holder text from getUser is stored alike everywhere',
  (_, make) => {
    it('drops NULs and turns lone surrogates into U+FFFD, shown the same to everyone', async () => {
      const odd = { id: 'u-odd\u0000', name: 'Zo\u0000ë \ud800', avatarUrl: '/a\udc00.png' };
      const h = createHarness({
        store: make(),
        handler: { getUser: () => odd },
      });
      const response = await h.send('POST', `${BASE}/page%3A1`, { body: { clientId: 'tab-a' } });
      expect(response.status).toBe(200);
      const held = await json(response);
      expect(held.lock.holder).toEqual({
        id: 'u-odd',
        name: 'Zoë \ufffd',
        avatarUrl: '/a\ufffd.png',
      });
      // The same user refreshes: the sanitized id still matches the holder.
      const again = await h.send('POST', `${BASE}/page%3A1`, {
        body: { clientId: 'tab-a', token: held.token },
      });
      expect(again.status).toBe(200);
      expect(await h.service.assertHeld('page:1', held.token, odd)).toMatchObject({ fence: 1 });
    });
  },
);
