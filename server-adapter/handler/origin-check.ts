export interface OriginPolicy {
  /** Origins besides the request's own that may change locks (normalized `scheme://host:port`). */
  allowedOrigins: ReadonlySet<string>;
  /** Take the request's own origin from `X-Forwarded-Host`/`X-Forwarded-Proto`. */
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
 * Whether a state-changing request comes from another site (DESIGN.md, "Cross-site
 * protection"). Requests with neither `Origin` nor `Sec-Fetch-Site` (servers, tests, curl) are
 * not browsers acting for someone else, so they pass; the session check still applies.
 */
export function isCrossSiteRequest(request: Request, policy: OriginPolicy): boolean {
  if (request.headers.get('Sec-Fetch-Site')?.trim().toLowerCase() === 'cross-site') return true;
  const origin = request.headers.get('Origin');
  if (origin === null) return false;
  const normalized = normalizeOrigin(origin);
  // `Origin: null` (sandboxed frames, some redirects) is never ours.
  if (normalized === null) return true;
  if (policy.allowedOrigins.has(normalized)) return false;
  return normalized !== ownOrigin(request, policy.trustProxy);
}

function ownOrigin(request: Request, trustProxy: boolean): string | null {
  const url = new URL(request.url);
  if (!trustProxy) return url.origin;
  const host = firstValue(request.headers.get('X-Forwarded-Host')) ?? url.host;
  const proto = firstValue(request.headers.get('X-Forwarded-Proto')) ?? url.protocol.slice(0, -1);
  return normalizeOrigin(`${proto}://${host}`);
}

/** Proxies append to these headers: the first value was set by the proxy the browser reached. */
function firstValue(header: string | null): string | undefined {
  const first = header?.split(',')[0]?.trim();
  return first ? first : undefined;
}

function normalizeOrigin(value: string): string | null {
  try {
    const origin = new URL(value).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}
