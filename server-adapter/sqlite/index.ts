/**
 * `page-lock/sqlite`: the embedded default lock store, for one server (or several processes on
 * one machine sharing a file). Needs the optional peer dependency `better-sqlite3`.
 */
export { DEFAULT_SQLITE_TABLE, lockTableDdl } from './sqlite-schema';
export {
  createSqliteLockStore,
  type SqliteLockStore,
  type SqliteLockStoreOptions,
} from './sqlite-store';
