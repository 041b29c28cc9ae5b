import { createHttpLockAdapter } from 'page-lock';

/** The browser's way to the lock routes of `app/api/locks/[[...lock]]/route.ts`. */
export const lockAdapter = createHttpLockAdapter({ baseUrl: '/api/locks' });
