import type { StatusResponse } from './protocol';

/**
 * The live channel (DESIGN.md, "Next capabilities"): `GET {base}/events?ids=a&ids=b` with
 * `Accept: text/event-stream` answers a server-sent events stream. A GET of `{base}/events`
 * without that `Accept` is still the status of the resource named "events".
 */
export const EVENTS_PATH = 'events';

/** The media type a stream request names in `Accept` and the stream answers in `Content-Type`. */
export const EVENT_STREAM_MEDIA_TYPE = 'text/event-stream';

/** The stream's event name: `event: lock`. Comment lines (`: ping`) keep proxies from closing it. */
export const LOCK_EVENT_NAME = 'lock';

/** What changed. `snapshot`: the state at (re)connect, one per watched id, so nothing is missed. */
export type LockChangeKind =
  | 'snapshot'
  | 'acquired'
  | 'released'
  | 'taken-over'
  | 'force-released'
  | 'lapsed'
  /** Someone joined the line or asked again (the holder refreshes to see who). */
  | 'asked'
  /** The holder answered "Keep editing" (waiters ask again to see their answer). */
  | 'declined'
  /** The holder handed the page to a waiter. */
  | 'handed-over'
  /** The holder idled out (`idleTimeout`) and the page was released. */
  | 'idle-released'
  /** A waiter left the line. */
  | 'left';

/**
 * The `data:` of one `event: lock`: what a GET of the resource would show this user now
 * (`isSelf` and `canTakeOver` for this stream's user), never a token or a client id. A stream
 * has no client id, so `held` never appears: the holding tab sees `locked` with `isSelf: true`.
 * `forbidden`: the policy refused to let this user observe the id
 * (`authorize(user, id, 'observe')`, asked once when the stream opens); it is not watched.
 *
 * `change` says why the server looked; `status` is what it saw then. Act on `status`: changes
 * made on other instances may arrive out of order, and each look is of the state at that time.
 */
export type LockStreamEvent = { resourceId: string; change: LockChangeKind } & (
  | Exclude<StatusResponse, { status: 'held' }>
  | { status: 'forbidden'; now: number }
);
