import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import { runLockStoreContract } from '../contract';

// The memory store keeps nothing across restarts (DESIGN.md exempts it), so it has no reopen.
runLockStoreContract(
  'memory',
  () => {
    const store = createMemoryLockStore();
    return { store, countRecords: async () => store.size };
  },
  { describe, it, expect, beforeEach, afterEach },
);
