export {
  createLockRouteHandlers,
  DEFAULT_NEXT_BASE_PATH,
  type LockRouteHandler,
  type LockRouteHandlers,
  type LockRouteHandlersOptions,
} from './lock-route-handlers';
