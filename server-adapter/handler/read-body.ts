import { LockRequestError } from './request-error';

/** 8 KiB: a lock request body is a few dozen bytes; anything near this is not ours. */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024;

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
  maxBytes: number,
): Promise<Record<string, unknown>> {
  const declared = request.headers.get('Content-Length');
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  const bytes = await readCapped(request, maxBytes);
  if (bytes.length === 0) return {};

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
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

async function readCapped(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read().catch(() => {
        // The client went away mid-body (or its stream failed): its request, not our failure.
        throw malformed('could not be read to its end');
      });
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        // Stop the sender: nothing more of this body will be read.
        await reader.cancel().catch(() => {});
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
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

function malformed(problem: string): LockRequestError {
  return new LockRequestError(400, 'bad-request', `[page-lock] "body" ${problem}`);
}
