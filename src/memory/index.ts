/**
 * `page-lock/memory`: the real lock service, memory store and handler running in the page, and an
 * adapter that talks to it without a network. For stories, tests and demos; the only part of the
 * browser half that imports the server half.
 */
export { createMemoryLockAdapter, type MemoryLockAdapterOptions } from './memory-adapter';
export {
  createMemoryLockServer,
  getDefaultMemoryLockServer,
  type MemoryLockServer,
  type MemoryLockServerOptions,
  type MemoryLockServerUser,
} from './memory-server';
