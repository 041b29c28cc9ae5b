import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockErrorResponse } from '../../server-adapter/handler/lock-error-response';
import { createLockHandler } from '../../server-adapter/handler/lock-handler';
import { LockStoreError } from '../../server-adapter/service/errors';
import { createLockService } from '../../server-adapter/service/lock-service';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import type { LockUser } from '../../src/protocol/protocol';

const alice: LockUser = { id: 'u-alice', name: 'Alice' };

/**
 * Hooks are typed as returning nothing, but an `async` function fits that type, and audit logs
 * and error reporters are usually async. A hook whose promise rejects must be swallowed like one
 * that throws: an unhandled rejection takes a Node server down.
 */
describe('async hooks that fail', () => {
  const unhandled: unknown[] = [];
  const collect = (reason: unknown) => unhandled.push(reason);
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', collect);
  });
  afterEach(() => {
    process.off('unhandledRejection', collect);
  });
  /** Long enough for Node to report a rejection nobody handled. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

  it('an async onEvent that rejects neither breaks the grant nor goes unhandled', async () => {
    const service = createLockService({
      store: createMemoryLockStore(),
      onEvent: async () => {
        throw new Error('audit database unreachable');
      },
    });
    const held = await service.acquire('page:1', alice, { clientId: 'tab-a' });
    expect(held).toMatchObject({ status: 'held' });
    await settle();
    expect(unhandled).toEqual([]);
  });

  it('an async onError that rejects does not go unhandled, and the 500 is still answered', async () => {
    const response = lockErrorResponse(new LockStoreError('acquire', new Error('ECONNRESET')), {
      onError: async () => {
        throw new Error('error tracker unreachable');
      },
    });
    expect(response.status).toBe(500);
    await settle();
    expect(unhandled).toEqual([]);
  });

  it('the handler’s async onError that rejects does not go unhandled either', async () => {
    const store = createMemoryLockStore();
    const service = createLockService({
      store: {
        ...store,
        acquire: async () => {
          throw new Error('ECONNRESET');
        },
      },
    });
    const handler = createLockHandler({
      service,
      basePath: '/api/locks',
      getUser: () => alice,
      onError: async () => {
        throw new Error('error tracker unreachable');
      },
    });
    const response = await handler(
      new Request('http://admin.test/api/locks/page%3A1', {
        method: 'POST',
        body: '{"clientId":"tab-a"}',
      }),
    );
    expect(response.status).toBe(500);
    await settle();
    expect(unhandled).toEqual([]);
  });
});
