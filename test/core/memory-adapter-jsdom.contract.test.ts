// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryLockAdapter } from '../../src/memory/memory-adapter';
import { createMemoryLockServer } from '../../src/memory/memory-server';
import { runLockAdapterContract } from '../contract/adapter-contract';

// The React tests run the memory adapter under jsdom, whose AbortSignal and Blob are not
// Node's: the adapter must keep the contract there too.
runLockAdapterContract(
  'memory adapter under jsdom',
  () => {
    const server = createMemoryLockServer({ ttl: 30_000 });
    return {
      alice: createMemoryLockAdapter({ user: { id: 'alice', name: 'Alice' }, server }),
      bob: createMemoryLockAdapter({ user: { id: 'bob', name: 'Bob' }, server }),
      advance: (ms) => server.advance(ms),
    };
  },
  { describe, it, expect, beforeEach, afterEach },
);
