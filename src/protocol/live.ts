import type { StatusResponse } from './protocol';

/**
 * The live channel (DESIGN.md, "Next capabilities"): `GET {base}/events?ids=a&ids=b` with
 * `Accept: text/event-stream` answers a server-sent events stream. A GET of `{base}/events`
 * without that `Accept` is still the status of the resource named "events".
 */
export const EVENTS_PATH = 'events';

/** The stream's event name: `event: lock`. Comment lines (`: ping`) keep proxies from closing it. */
export const LOCK_EVENT_NAME = 'lock';

/** What changed. `snapshot`: the state at (re)connect, one per watched id, so nothing is missed. */
export type LockChangeKind =
  | 'snapshot'
  | 'acquired'
  | 'released'
  | 'taken-over'
  | 'force-released'
  | 'lapsed';

/**
 * The `data:` of one `event: lock`: what a GET of the resource would show this user now
 * (`isSelf` from this stream's user), never a token or a client id. `forbidden`: the policy
 * refused to let this user observe the id (`authorize(user, id, 'observe')`).
 */
export type LockStreamEvent = { resourceId: string; change: LockChangeKind } & (
  | StatusResponse
  | { status: 'forbidden'; now: number }
);
