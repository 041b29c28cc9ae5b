import {
  type ErrorCode,
  type ErrorResponse,
  type Lock,
  type LostReason,
  PROTOCOL_VERSION,
  PROTOCOL_VERSION_HEADER,
} from '../../src/core/protocol';

/** Headers every protocol response carries, 204s included. */
export function protocolHeaders(extra: Record<string, string> = {}): Headers {
  const headers = new Headers(extra);
  // Lock state changes by the second: no cache (browser, CDN or Next's) may keep an answer.
  headers.set('Cache-Control', 'no-store');
  headers.set(PROTOCOL_VERSION_HEADER, PROTOCOL_VERSION);
  return headers;
}

/** A JSON response with the protocol's headers. */
export function jsonResponse(
  status: number,
  body: object,
  extraHeaders: Record<string, string> = {},
): Response {
  const headers = protocolHeaders(extraHeaders);
  headers.set('Content-Type', 'application/json; charset=utf-8');
  return new Response(JSON.stringify(body), { status, headers });
}

/** 204: released, or already free. */
export function noContentResponse(): Response {
  return new Response(null, { status: 204, headers: protocolHeaders() });
}

/** The protocol's error body `{ error: { code, message }, lock?, reason?, now }`. */
export function errorBody(
  code: ErrorCode,
  message: string,
  now: number,
  extra: { lock?: Lock | null; reason?: LostReason } = {},
): ErrorResponse {
  const body: ErrorResponse = { error: { code, message }, now };
  if (extra.reason !== undefined) body.reason = extra.reason;
  if (extra.lock) body.lock = extra.lock;
  return body;
}

/** What a 500 says: nothing about the store, its driver or the stack. */
export const INTERNAL_ERROR_MESSAGE = '[page-lock] The lock server failed; nothing was granted';
