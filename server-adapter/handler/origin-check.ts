export interface OriginPolicy {
  /** Origins besides the request's own that may change locks (normalized `scheme://host:port`). */
  allowedOrigins: ReadonlySet<string>;
  /** A proxy the app trusts sets `X-Forwarded-Host`/`X-Forwarded-Proto`: the request's own origin. */
  trustProxy: boolean;
}

/** Normalizes the configured origins once, refusing anything that is not an origin. */
export function createOriginPolicy(
  allowedOrigins: readonly string[] = [],
  trustProxy = false,
): OriginPolicy {
  const origins = new Set<string>();
  for (const origin of allowedOrigins) {
    const normalized = normalizeOrigin(origin);
    if (normalized === null) {
      throw new Error(
        `[page-lock] [handler] Option "allowedOrigins" holds "${origin}", which is not an origin such as "https://admin.example.com"`,
      );
    }
    origins.add(normalized);
  }
  return { allowedOrigins: origins, trustProxy };
}

/**
 * Why a state-changing request is refused as cross-site, or null when it may go on (DESIGN.md,
 * "Cross-site protection"; the algorithm of Go's `net/http` `CrossOriginProtection`):
 *
 * 1. `Sec-Fetch-Site` decides when present: `same-origin` and `none` pass; anything else
 *    (`same-site`, `cross-site`) passes only when `Origin` is in `allowedOrigins`.
 * 2. Without it, an `Origin` must name the request's `Host` header (or, with `trustProxy`, the
 *    `X-Forwarded-Host`/`X-Forwarded-Proto` a trusted proxy set), or be in `allowedOrigins`.
 *    Never `request.url`: frameworks rebuild it (`next start` says `localhost` whatever the host).
 * 3. With neither header it is no browser acting for someone else (a server, a test): it passes,
 *    and the session check still applies.
 *
 * The reason names the origin it saw and the option that admits it.
 */
export function crossSiteRefusal(request: Request, policy: OriginPolicy): string | null {
  const headers = request.headers;
  const origin = headers.get('Origin');
  const allowed = origin !== null && isAllowed(origin, policy);
  const site = headers.get('Sec-Fetch-Site')?.trim().toLowerCase();
  if (site) {
    if (site === 'same-origin' || site === 'none' || allowed) return null;
    return `[page-lock] Lock changes from ${origin ?? 'another site'} (Sec-Fetch-Site: ${site}) are refused; if that origin is yours, add it to the "allowedOrigins" option`;
  }
  if (origin === null || allowed) return null;
  const own = ownHost(request, policy.trustProxy);
  const seen = parseOrigin(origin);
  if (
    seen &&
    own &&
    seen.host === own.host &&
    (own.protocol === null || own.protocol === seen.protocol)
  ) {
    return null;
  }
  const where = own
    ? `this site is ${own.protocol ? `${own.protocol}//` : ''}${own.host}`
    : 'the request has no Host header';
  const proxyHint = policy.trustProxy
    ? ''
    : '; behind a proxy you trust that sets X-Forwarded-Host, set "trustProxy: true"';
  return `[page-lock] Lock changes from ${origin} are refused: ${where}. If that origin is yours, add it to the "allowedOrigins" option${proxyHint}`;
}

function isAllowed(origin: string, policy: OriginPolicy): boolean {
  const normalized = normalizeOrigin(origin);
  return normalized !== null && policy.allowedOrigins.has(normalized);
}

/** The host (and, from a trusted proxy, the scheme) the browser reached, lower-cased. */
function ownHost(
  request: Request,
  trustProxy: boolean,
): { host: string; protocol: string | null } | null {
  const headers = request.headers;
  const forwardedHost = trustProxy ? firstValue(headers.get('X-Forwarded-Host')) : undefined;
  const host = forwardedHost ?? headers.get('Host')?.trim();
  if (!host) return null;
  const forwardedProto = trustProxy ? firstValue(headers.get('X-Forwarded-Proto')) : undefined;
  // The Host header carries no scheme: like Go, an http→https mismatch there passes (HSTS covers
  // it, and every current browser sends Sec-Fetch-Site anyway).
  const parsed = parseOrigin(`${forwardedProto ?? 'http'}://${host}`);
  if (!parsed) return null;
  return { host: parsed.host, protocol: forwardedProto ? parsed.protocol : null };
}

/** Proxies append to these headers: the first value was set by the proxy the browser reached. */
function firstValue(header: string | null): string | undefined {
  const first = header?.split(',')[0]?.trim();
  return first ? first : undefined;
}

/** `scheme://host[:port]` with default ports dropped, or null for anything that is not one. */
function parseOrigin(value: string): { host: string; protocol: string } | null {
  try {
    const url = new URL(value);
    if (url.origin === 'null' || url.username || url.password) return null;
    return { host: url.host, protocol: url.protocol };
  } catch {
    return null;
  }
}

function normalizeOrigin(value: string): string | null {
  try {
    const url = new URL(value);
    if (url.username || url.password) return null;
    return url.origin === 'null' ? null : url.origin;
  } catch {
    return null;
  }
}
