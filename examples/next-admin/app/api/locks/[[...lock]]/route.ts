import { lockRoute } from '../../../../lib/lock-routes';

// The lock store is SQLite (better-sqlite3) by default: Node only, not the Edge runtime.
export const runtime = 'nodejs';

export const GET = lockRoute('GET');
export const POST = lockRoute('POST');
export const PUT = lockRoute('PUT');
export const PATCH = lockRoute('PATCH');
export const DELETE = lockRoute('DELETE');
export const HEAD = lockRoute('HEAD');
export const OPTIONS = lockRoute('OPTIONS');
