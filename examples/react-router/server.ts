import { createServer } from 'node:http';
import { toNodeHandler } from 'page-lock/node';
import { createRequestHandler } from 'react-router';
import { build } from './build';

// React Router's own request handler (Web Request → Response), served by node:http through
// page-lock/node. `react-router-serve` or @react-router/express do the same for a built app.
const handleRequest = createRequestHandler(build, process.env.NODE_ENV ?? 'production');
const port = Number(process.env.PORT ?? 3000);

createServer(toNodeHandler(handleRequest)).listen(port, () => {
  console.log(`page-lock React Router example on http://localhost:${port}`);
});
