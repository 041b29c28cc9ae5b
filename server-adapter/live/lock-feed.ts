import type { LockChangeKind } from '../../src/protocol/live';
import type { Lock } from '../../src/protocol/protocol';

/**
 * One change of one resource, as the service decided it, carried to every instance's streams.
 * `lock` is the public lock after the change (never a token), `null` when the resource is free.
 */
export interface LockChange {
  resourceId: string;
  /** Never `snapshot` (a stream's own) nor `lapsed` (noticed by each stream's timer). */
  change: Exclude<LockChangeKind, 'snapshot' | 'lapsed'>;
  lock: Lock | null;
  /** The clock that decided the change, epoch ms. */
  at: number;
}

/**
 * Fan-out of lock changes across server instances, by the store's own means (in-process, Redis
 * pub/sub, Postgres LISTEN/NOTIFY). The service publishes after each change; each instance's event
 * streams subscribe once. Lapses are not published: a stream's server notices them by a timer at
 * the `expiresAt` it last saw. The lease (polling) stays the authority: a lost message delays news,
 * it never grants anything.
 */
export interface LockFeed {
  /** Tells every subscriber on every instance, this one included. Rejects only on a transport failure. */
  publish(change: LockChange): Promise<void>;
  /** Calls `listener` for every change published anywhere. Returns the unsubscribe. */
  subscribe(listener: (change: LockChange) => void): () => void;
  /** Stops listening and frees the connection it holds (not a pool or client it was given). */
  close(): Promise<void>;
}
