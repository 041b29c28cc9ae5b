import type { ServerBuild } from 'react-router';
import * as apiLocks from './app/routes/api.locks';

type RouteModule = NonNullable<ServerBuild['routes'][string]>['module'];
/** A route module with no component (the root here, a resource route), typed as the build's. */
const moduleWithoutComponent = (module: object) => module as RouteModule;

/**
 * What `react-router build` writes to build/server/index.js, cut down to this example's one
 * resource route, so the example runs on Node as it is, without Vite. In your app, import the
 * real build instead (`await import('./build/server/index.js')`).
 */
export const build: ServerBuild = {
  entry: {
    module: {
      // Renders documents; this example has no pages, only the resource route.
      default: () => new Response('Not found', { status: 404 }),
    },
  },
  routes: {
    root: { id: 'root', path: '', module: moduleWithoutComponent({}) },
    'routes/api.locks': {
      id: 'routes/api.locks',
      parentId: 'root',
      path: 'api/locks/*',
      module: moduleWithoutComponent(apiLocks),
    },
  },
  assets: { entry: { imports: [], module: '' }, routes: {}, url: '', version: 'example' },
  publicPath: '/',
  assetsBuildDirectory: 'build/client',
  future: {
    v8_middleware: false,
    v8_passThroughRequests: false,
    v8_trailingSlashAwareDataRequests: false,
  },
  ssr: true,
  isSpaMode: false,
  prerender: [],
  routeDiscovery: { mode: 'lazy', manifestPath: '/__manifest' },
};
