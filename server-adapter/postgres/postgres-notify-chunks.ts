import { randomBytes } from 'node:crypto';

/**
 * Postgres refuses a NOTIFY payload of 8000 bytes or more (in its default build). A change is
 * usually a few hundred bytes, but a holder's `avatarUrl` may be a `data:` URL of many KB: such a
 * change is sent as several notifications in one transaction (Postgres delivers a transaction's
 * notifications together and in order), and put together again on the listening side. So every
 * change arrives intact, whatever its size, up to {@link MAX_CHANGE_BYTES}.
 *
 * A whole message is the change's JSON (it starts with `{`); a part is `#<id> <index>/<count> <text>`.
 */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7_999;

/** Larger changes are refused: 64 parts, about half a MB. */
export const MAX_NOTIFY_PARTS = 64;

const PART_TEXT_BYTES = 7_900; // leaves room for the part's header
const PART = /^#([0-9a-f]{16}) (\d{1,3})\/(\d{1,3}) /;
/** Parts of changes not yet complete kept at once; more means parts were lost: the oldest go. */
const MAX_PENDING = 8;

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The payloads to send for one encoded change, in order. Throws when it is too large. */
export function splitIntoNotifications(message: string): string[] {
  if (utf8Length(message) <= MAX_NOTIFY_PAYLOAD_BYTES) return [message];
  const pieces: string[] = [];
  let piece = '';
  let bytes = 0;
  for (const char of message) {
    // Split on code points: every payload must be valid text in the database's encoding.
    const size = utf8Length(char);
    if (bytes + size > PART_TEXT_BYTES) {
      pieces.push(piece);
      piece = '';
      bytes = 0;
    }
    piece += char;
    bytes += size;
  }
  pieces.push(piece);
  if (pieces.length > MAX_NOTIFY_PARTS) {
    throw new Error(
      `[page-lock] [postgres] A lock change of ${utf8Length(message)} bytes is too large to publish (at most ${MAX_NOTIFY_PARTS} notifications of ${PART_TEXT_BYTES} bytes); is the holder's avatarUrl a data: URL?`,
    );
  }
  const id = randomBytes(8).toString('hex');
  return pieces.map((text, index) => `#${id} ${index}/${pieces.length} ${text}`);
}

/** Puts parted messages together again: each whole message comes out once, the rest are null. */
export interface NotificationJoiner {
  /** The whole message this payload completes (or is), else null. */
  accept(payload: string): string | null;
  clear(): void;
}

export function createNotificationJoiner(): NotificationJoiner {
  const pending = new Map<string, { parts: (string | undefined)[]; received: number }>();
  return {
    accept(payload) {
      if (!payload.startsWith('#')) return payload;
      const header = PART.exec(payload);
      if (!header) return null;
      const [matched, id, indexText, countText] = header as unknown as [
        string,
        string,
        string,
        string,
      ];
      const index = Number(indexText);
      const count = Number(countText);
      if (count < 2 || count > MAX_NOTIFY_PARTS || index >= count) return null;
      let entry = pending.get(id);
      if (!entry) {
        if (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value as string);
        entry = { parts: new Array(count), received: 0 };
        pending.set(id, entry);
      }
      if (entry.parts.length !== count || entry.parts[index] !== undefined) return null;
      entry.parts[index] = payload.slice(matched.length);
      entry.received++;
      if (entry.received < count) return null;
      pending.delete(id);
      return entry.parts.join('');
    },
    clear() {
      pending.clear();
    },
  };
}
