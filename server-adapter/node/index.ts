export {
  BODY_ALREADY_READ_MESSAGE,
  type NodeHandler,
  type NodeHandlerOptions,
  toNodeHandler,
  type WebHandler,
} from './to-node-handler';
