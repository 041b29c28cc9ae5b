import { describe, expect, it } from 'vitest';
import * as server from '../../server-adapter/index';
import * as core from '../../src/core/index';
import * as client from '../../src/index';

/**
 * The runtime names of each public entry, so that a new export (or a lost one) is a deliberate
 * change: update the list, the README's API sections and the CHANGELOG together. Type-only names
 * are invisible at run time; test/package/public-types.ts lists them, and the typecheck fails
 * when one goes missing.
 */
const valueNames = (entry: object) => Object.keys(entry).sort();

describe('the public surface', () => {
  it('page-lock exports what an editor needs', () => {
    expect(valueNames(client)).toEqual([
      'LOCK_TOKEN_HEADER',
      'LockAdapterError',
      'LockOverlay',
      'LockOverlayActions',
      'LockOverlayAsk',
      'LockOverlayContent',
      'LockOverlayDescription',
      'LockOverlayHolderPrompt',
      'LockOverlayIdleWarning',
      'LockOverlayPanel',
      'LockOverlayRoot',
      'LockOverlayTitle',
      'PageLockProvider',
      'createHttpLockAdapter',
      'defaultLockOverlayMessages',
      'lockFailureOf',
      'lockQueryOptions',
      'lockStatusQueryOptions',
      'useLockOverlay',
      'useLockStatus',
      'usePageLock',
    ]);
  });

  it('page-lock/core exports the protocol and the adapter contract, without React', () => {
    expect(valueNames(core)).toEqual([
      'LOCK_TOKEN_HEADER',
      'LockAdapterError',
      'MAX_ASK_MESSAGE_LENGTH',
      'MAX_BATCH_IDS',
      'MAX_RESOURCE_ID_LENGTH',
      'PROTOCOL_VERSION',
      'PROTOCOL_VERSION_HEADER',
      'createHttpLockAdapter',
      'lockFailureOf',
    ]);
  });

  it('page-lock/server exports the service, the handler, the stores, the errors and lockRules', () => {
    expect(valueNames(server)).toEqual([
      'LOCK_TOKEN_HEADER',
      'LockBusyError',
      'LockForbiddenError',
      'LockInputError',
      'LockNotHeldError',
      'LockStoreError',
      'PageLockError',
      'createLockHandler',
      'createLockService',
      'createMemoryLockStore',
      'createRecordLockStore',
      'lockErrorResponse',
      'lockRules',
    ]);
  });

  it('lockRules holds the rules a custom store applies (docs/custom-store.md)', () => {
    expect(valueNames(server.lockRules)).toEqual([
      'DEFAULT_QUEUE_GRACE',
      'MAX_REMEMBERED_ENDINGS',
      'applyAcquire',
      'applyAnswer',
      'applyAsk',
      'applyCheck',
      'applyForceRelease',
      'applyLeave',
      'applyRelease',
      'applyTakeOver',
      'isLive',
      'settleQueue',
    ]);
    // The rules themselves, through the public name: a first acquire grants fence 1.
    const input = {
      resourceId: 'page:1',
      holder: { id: 'alice', name: 'Alice' },
      clientId: 'tab-1',
      newToken: 'token-1',
      ttl: 1_000,
      now: 5_000,
    };
    const { result, next } = server.lockRules.applyAcquire(null, input);
    expect(result).toMatchObject({ outcome: 'granted', lock: { fence: 1, token: 'token-1' } });
    expect(next).toMatchObject({ resourceId: 'page:1', fence: 1, endings: [] });
    expect(server.lockRules.isLive(next?.lock ?? null, 5_999)).toBe(true);
    expect(server.lockRules.isLive(next?.lock ?? null, 6_000)).toBe(false);
  });

  it('page-lock re-exports the very objects of page-lock/core, not copies', () => {
    expect(client.createHttpLockAdapter).toBe(core.createHttpLockAdapter);
    expect(client.LockAdapterError).toBe(core.LockAdapterError);
    expect(client.lockFailureOf).toBe(core.lockFailureOf);
    expect(server.LOCK_TOKEN_HEADER).toBe(core.LOCK_TOKEN_HEADER);
  });
});
