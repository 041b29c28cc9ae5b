import {
  type ErrorCode,
  type ErrorResponse,
  type Lock,
  type LostReason,
  PROTOCOL_VERSION,
  PROTOCOL_VERSION_HEADER,
} from '../../src/protocol/protocol';

/**
 * Headers every protocol response carries, 204s included. Lock state changes by the second: no
 * cache (browser, CDN or Next's) may keep an answer.
 */
const PROTOCOL_HEADERS: ReadonlyArray<[string, string]> = [
  ['Cache-Control', 'no-store'],
  [PROTOCOL_VERSION_HEADER, PROTOCOL_VERSION],
];
const JSON_HEADERS: ReadonlyArray<[string, string]> = [
  ...PROTOCOL_HEADERS,
  ['Content-Type', 'application/json; charset=utf-8'],
];

/**
 * The protocol's headers plus `extra`, as a list a Response takes without a Headers object
 * first. The protocol's own win over an `extra` of the same name.
 */
function withProtocolHeaders(
  base: ReadonlyArray<[string, string]>,
  extra: Record<string, string> | undefined,
): Array<[string, string]> {
  if (!extra) return base.slice();
  const headers: Array<[string, string]> = [];
  for (const name in extra) {
    const lower = name.toLowerCase();
    if (!base.some(([known]) => known.toLowerCase() === lower)) {
      headers.push([name, extra[name] as string]);
    }
  }
  return headers.length === 0 ? base.slice() : headers.concat(base);
}

/** Headers every protocol response carries, 204s included, plus `extra`. */
export function protocolHeaders(extra: Record<string, string> = {}): Headers {
  return new Headers(withProtocolHeaders(PROTOCOL_HEADERS, extra));
}

/** A JSON response with the protocol's headers. */
export function jsonResponse(
  status: number,
  body: object,
  extraHeaders?: Record<string, string>,
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: withProtocolHeaders(JSON_HEADERS, extraHeaders),
  });
}

/** 204: released, or already free. */
export function noContentResponse(): Response {
  return new Response(null, {
    status: 204,
    headers: withProtocolHeaders(PROTOCOL_HEADERS, undefined),
  });
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
