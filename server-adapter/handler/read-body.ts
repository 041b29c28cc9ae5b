import { LockRequestError } from './request-error';

/** 8 KiB: a lock request body is a few dozen bytes; anything near this is not ours. */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024;
/**
 * 10 s: a lock body is one small packet. A body that never ends would otherwise hold its request
 * (and the memory behind it) open for good, and a release needs no session, so anyone could.
 */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;

export interface BodyLimits {
  /** Bodies larger than this are a 413. */
  maxBytes: number;
  /** A body not read to its end within this is a 408. */
  timeoutMs: number;
}

/**
 * Reads a request body as a JSON object, whatever its content type: the sendBeacon release
 * arrives as `text/plain`, and a content type proves nothing about a body anyway. An empty body
 * reads as `{}`, so the missing field is the one the 400 names.
 *
 * The stream is read with a byte cap and abandoned as soon as it goes over, because a body
 * may come without a content-length (chunked) or with one that lies.
 */
export async function readJsonBody(
  request: Request,
  { maxBytes, timeoutMs }: BodyLimits,
): Promise<Record<string, unknown>> {
  const declared = request.headers.get('Content-Length');
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  const bytes = await readCapped(request, maxBytes, timeoutMs);
  if (bytes.length === 0) return {};

  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw malformed('is not valid UTF-8');
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw malformed('is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw malformed('must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** Stateless between calls (no `stream` option), so one decoder serves every request. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

async function readCapped(
  request: Request,
  maxBytes: number,
  timeoutMs: number,
): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  // One deadline for the whole body, not per chunk: a byte every few seconds must not keep it
  // open. Cancelling the reader ends the pending read (done), so the loop needs no race.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(() => {});
  }, timeoutMs);
  try {
    for (;;) {
      let read: ReadableStreamReadResult<Uint8Array>;
      try {
        read = await reader.read();
      } catch {
        if (timedOut) throw timedOutError(timeoutMs);
        // The client went away mid-body (or its stream failed): its request, not our failure.
        throw malformed('could not be read to its end');
      }
      if (timedOut) throw timedOutError(timeoutMs);
      if (read.done) break;
      const value = read.value;
      total += value.byteLength;
      if (total > maxBytes) {
        // Stop the sender: nothing more of this body will be read.
        await reader.cancel().catch(() => {});
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } finally {
    clearTimeout(timer);
    try {
      reader.releaseLock();
    } catch {
      // Nothing is pending once the loop is left; a stream that refuses goes with the request.
    }
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function tooLarge(maxBytes: number): LockRequestError {
  return new LockRequestError(
    413,
    'payload-too-large',
    `[page-lock] The request body is larger than ${maxBytes} bytes`,
  );
}

function timedOutError(timeoutMs: number): LockRequestError {
  return new LockRequestError(
    408,
    'request-timeout',
    `[page-lock] The request body did not arrive within ${timeoutMs} ms`,
  );
}

function malformed(problem: string): LockRequestError {
  return new LockRequestError(400, 'bad-request', `[page-lock] "body" ${problem}`);
}
