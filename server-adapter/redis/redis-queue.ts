import type { LockUser } from '../../src/protocol/protocol';
import type { StoredWaiter } from '../store/lock-store';

/**
 * The line as the Redis store keeps it: the state hash's `queue` field, a JSON array of places
 * (first first) that the Lua scripts write with cjson. Every value is a string: numbers as the
 * lock's fields keep them, `user` and `message` as the JSON text the store was given (the scripts
 * never decode them), plus `userId`, the id a grant to the place stores as `holderId`.
 */
interface WaiterAsStored {
  id: string;
  userId: string;
  user: string;
  clientId: string;
  askedAt: string;
  expiresAt: string;
  message: string;
  request: string;
  requestExpiresAt: string;
}

/** The `queue` text of a hash or a script's reply (`''` or absent: nobody waits), first first. */
export function decodeQueue(text: string | undefined): StoredWaiter[] {
  if (text === undefined || text === '') return [];
  const parsed = parseJson(text);
  if (!Array.isArray(parsed)) throw badLine(text);
  return parsed.map((place) => decodePlace(place, text));
}

/** One place as a script replies it (the JSON of one entry of the line). */
export function decodeWaiter(text: unknown): StoredWaiter {
  if (typeof text !== 'string') throw badLine(String(text));
  return decodePlace(parseJson(text), text);
}

const TEXT_FIELDS = [
  'id',
  'userId',
  'user',
  'clientId',
  'askedAt',
  'expiresAt',
  'message',
  'request',
  'requestExpiresAt',
] as const;

function decodePlace(value: unknown, text: string): StoredWaiter {
  if (typeof value !== 'object' || value === null) throw badLine(text);
  const fields = value as Partial<Record<keyof WaiterAsStored, unknown>>;
  for (const name of TEXT_FIELDS) if (typeof fields[name] !== 'string') throw badLine(text);
  const place = fields as WaiterAsStored;
  const user = parseJson(place.user) as Partial<LockUser> | null;
  const message = parseJson(place.message);
  if (
    typeof user !== 'object' ||
    user === null ||
    typeof user.id !== 'string' ||
    typeof user.name !== 'string' ||
    (typeof message !== 'string' && message !== null) ||
    (place.request !== 'pending' && place.request !== 'declined')
  ) {
    throw badLine(text);
  }
  return {
    id: place.id,
    user: user as LockUser,
    clientId: place.clientId,
    askedAt: timeOf(place.askedAt, text),
    expiresAt: timeOf(place.expiresAt, text),
    message,
    request: place.request,
    requestExpiresAt: timeOf(place.requestExpiresAt, text),
  };
}

function timeOf(value: string, text: string): number {
  const n = Number(value);
  if (value === '' || !Number.isFinite(n)) throw badLine(text);
  return n;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw badLine(text);
  }
}

function badLine(text: string): Error {
  return new Error(
    `[page-lock] [redis] A resource's line (the state hash's "queue" field) is not what the store writes: ${text.slice(0, 200)}`,
  );
}
