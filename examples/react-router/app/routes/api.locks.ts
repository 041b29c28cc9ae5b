import type { ActionFunctionArgs, LoaderFunctionArgs } from 'react-router';
import { lockHandler } from '../locks.server';

// A resource route (no default export, so React Router renders nothing): `api/locks/*` in
// app/routes.ts. React Router hands over the Web Request with its body unread and sends the
// handler's Response as it is. GET comes to the loader, every other method to the action.
export const loader = ({ request }: LoaderFunctionArgs) => lockHandler(request);
export const action = ({ request }: ActionFunctionArgs) => lockHandler(request);
