import { expect } from 'vitest';
import {
  createLockHandler,
  type LockHandlerOptions,
} from '../../server-adapter/handler/lock-handler';
import type { LockEvent } from '../../server-adapter/service/events';
import {
  createLockService,
  type LockServiceOptions,
} from '../../server-adapter/service/lock-service';
import type { LockStore } from '../../server-adapter/store/lock-store';
import { createMemoryLockStore } from '../../server-adapter/store/memory-store';
import type { LockUser } from '../../src/protocol/protocol';

/** The handler's tests talk to a real service over the memory store, with a clock they move. */

export const ORIGIN = 'http://admin.test';
export const BASE = '/api/locks';
export const TTL = 90_000;
export const START = 1_700_000_000_000;

export const alice: LockUser = { id: 'u-alice', name: 'Alice' };
export const bob: LockUser = { id: 'u-bob', name: 'Bob' };
export const carol: LockUser = { id: 'u-carol', name: 'Carol', avatarUrl: '/carol.png' };
const usersBySession: Record<string, LockUser> = { alice, bob, carol };

export interface HarnessOptions {
  canTakeOver?: LockServiceOptions['canTakeOver'];
  authorize?: LockServiceOptions['authorize'];
  store?: LockStore;
  handler?: Partial<Omit<LockHandlerOptions, 'service'>>;
}

export interface SendOptions {
  /** Whose session cookie the request carries (none: signed out). */
  as?: LockUser | null;
  /** A JSON body (stringified), or a raw string / stream when `raw`. */
  body?: unknown;
  raw?: BodyInit;
  headers?: Record<string, string>;
}

export function createHarness(options: HarnessOptions = {}) {
  let clock = START;
  const store = options.store ?? createMemoryLockStore();
  const events: LockEvent[] = [];
  const service = createLockService({
    store,
    ttl: TTL,
    now: () => clock,
    canTakeOver: options.canTakeOver,
    authorize: options.authorize,
    onEvent: (event) => events.push(event),
  });
  const errors: unknown[] = [];
  const handler = createLockHandler({
    service,
    basePath: BASE,
    // The application's own session lookup: here a cookie naming a test user.
    getUser: async (request) => {
      const session = /session=(\w+)/.exec(request.headers.get('Cookie') ?? '')?.[1];
      return session ? (usersBySession[session] ?? null) : null;
    },
    onError: (error) => errors.push(error),
    ...options.handler,
  });

  const send = async (method: string, path: string, init: SendOptions = {}) => {
    const headers = new Headers(init.headers);
    // Every HTTP/1.1 request names the host it was sent to; a server always sees it.
    if (!headers.has('Host')) headers.set('Host', new URL(ORIGIN).host);
    const as = init.as === undefined ? alice : init.as;
    if (as) headers.set('Cookie', `session=${sessionOf(as)}`);
    let body: BodyInit | undefined = init.raw;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
    }
    const request = new Request(`${ORIGIN}${path}`, {
      method,
      headers,
      body,
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
    return handler(request);
  };

  return {
    store,
    service,
    events,
    errors,
    handler,
    send,
    now: () => clock,
    advance(ms: number) {
      clock += ms;
    },
    /** `POST {base}/{id}` as `user` from tab `clientId`. */
    acquire(id: string, as: LockUser, clientId: string, token?: string) {
      return send('POST', `${BASE}/${encodeURIComponent(id)}`, { as, body: { clientId, token } });
    },
    /** `POST {base}/{id}/release` the way sendBeacon sends it: text/plain, no session. */
    beaconRelease(id: string, token: string) {
      return send('POST', `${BASE}/${encodeURIComponent(id)}/release`, {
        as: null,
        raw: JSON.stringify({ token }),
        headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      });
    },
    takeOver(id: string, as: LockUser, clientId: string, expectedFence: unknown) {
      return send('POST', `${BASE}/${encodeURIComponent(id)}/takeover`, {
        as,
        body: { clientId, expectedFence },
      });
    },
    /** Everything that can be observed from outside: the live locks and the events so far. */
    async snapshot() {
      return { locks: await service.list(), events: events.length };
    },
  };
}

export type Harness = ReturnType<typeof createHarness>;

function sessionOf(user: LockUser): string {
  const entry = Object.entries(usersBySession).find(([, known]) => known.id === user.id);
  if (!entry) throw new Error(`no test session for ${user.id}`);
  return entry[0];
}

/**
 * A protocol body as the tests read it. Loosely typed on purpose: every body is checked with
 * `toEqual`/`toMatchObject` against the protocol's shape, which is the real type check here.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type AnswerBody = Record<string, any>;

/** Reads a JSON answer and checks the headers every protocol response carries. */
export async function json(response: Response): Promise<AnswerBody> {
  expectProtocolHeaders(response);
  expect(response.headers.get('Content-Type')).toMatch(/^application\/json/);
  return (await response.json()) as AnswerBody;
}

export function expectProtocolHeaders(response: Response): void {
  expect(response.headers.get('Cache-Control')).toBe('no-store');
  expect(response.headers.get('Page-Lock-Version')).toBe('1');
}
