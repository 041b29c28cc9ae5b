// The anchor of `npm run bench:load` (bench/load.ts): a Next route handler that answers a
// constant JSON, so the lock route's latency and throughput read against what Next itself costs
// on the same server. It does not exist unless the bench starts the server with
// PAGE_LOCK_BENCH_CONSTANT=1: every other server answers 404, as for any unknown route.

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const NOT_FOUND = { error: { code: 'not-found', message: 'No such route' } };

function answer(): Response {
  if (process.env.PAGE_LOCK_BENCH_CONSTANT !== '1') {
    return Response.json({ ...NOT_FOUND, now: Date.now() }, { status: 404 });
  }
  return Response.json(
    { status: 'held', ttlMs: 90_000, now: Date.now() },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}

export const GET = answer;
export const POST = answer;
