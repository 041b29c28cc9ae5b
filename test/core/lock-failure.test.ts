import { afterEach, describe, expect, it, vi } from 'vitest';
import { LockAdapterError } from '../../src/core/adapter';
import { isDevelopment } from '../../src/core/development';
import { lockFailureHint, lockFailureOf, reportLockFailure } from '../../src/core/lock-failure';
import type { ErrorCode } from '../../src/protocol/protocol';

const http = (status: number, code?: ErrorCode) =>
  new LockAdapterError('http', `[page-lock] [http-adapter] POST /x answered ${status}`, {
    status,
    ...(code ? { code } : {}),
  });

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('lockFailureOf', () => {
  it('tells each failure apart: offline, not signed in, not allowed, no route, server, unexpected', () => {
    expect(lockFailureOf(null)).toBeNull();
    expect(lockFailureOf(new LockAdapterError('network', 'no answer'))).toBe('offline');
    expect(lockFailureOf(new TypeError('Failed to fetch'))).toBe('offline');
    expect(lockFailureOf(http(408, 'request-timeout'))).toBe('offline');
    expect(lockFailureOf(http(401, 'unauthorized'))).toBe('unauthorized');
    expect(lockFailureOf(http(403, 'forbidden'))).toBe('forbidden');
    expect(lockFailureOf(http(403, 'cross-site'))).toBe('forbidden');
    expect(lockFailureOf(http(404, 'not-found'))).toBe('not-found');
    expect(lockFailureOf(http(404))).toBe('not-found');
    expect(lockFailureOf(http(405, 'method-not-allowed'))).toBe('not-found');
    expect(lockFailureOf(http(500, 'store-error'))).toBe('server');
    expect(lockFailureOf(http(503, 'busy'))).toBe('server');
    expect(lockFailureOf(http(502))).toBe('server');
    expect(lockFailureOf(http(400, 'bad-request'))).toBe('unexpected');
    expect(lockFailureOf(new LockAdapterError('protocol', 'version 2'))).toBe('unexpected');
  });
});

describe('reportLockFailure', () => {
  it('logs one line per distinct failure in development, with the likely fix', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    reportLockFailure(http(403, 'cross-site'));
    reportLockFailure(http(403, 'cross-site'));
    reportLockFailure(http(404, 'not-found'));
    reportLockFailure(http(401, 'unauthorized'));
    expect(warn).toHaveBeenCalledTimes(3);
    const [crossSite, notFound, unauthorized] = warn.mock.calls.map(([line]) => String(line));
    expect(crossSite).toMatch(/^\[page-lock\] \[http-adapter\] POST \/x answered 403\. /);
    expect(crossSite).toMatch(/allowedOrigins/);
    expect(crossSite).toMatch(/trustProxy/);
    expect(crossSite).toMatch(/Origin with its Host header/);
    expect(notFound).toMatch(/baseUrl/);
    expect(notFound).toContain('app/api/locks/[[...lock]]/route.ts');
    expect(unauthorized).toMatch(/getUser\(request\) returned null/);
  });

  it('says nothing in production', () => {
    vi.stubEnv('NODE_ENV', 'production');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(isDevelopment()).toBe(false);
    reportLockFailure(http(503, 'busy'));
    expect(warn).not.toHaveBeenCalled();
  });

  it('works without `process` (a browser), quietly', () => {
    const saved = globalThis.process;
    vi.stubGlobal('process', undefined);
    try {
      expect(isDevelopment()).toBe(false);
      expect(() => reportLockFailure(http(500, 'store-error'))).not.toThrow();
    } finally {
      vi.stubGlobal('process', saved);
    }
  });

  it('has a hint for a busy store and for an authorize refusal', () => {
    expect(lockFailureHint(http(503, 'busy'))).toMatch(/busy/);
    expect(lockFailureHint(http(403, 'forbidden'))).toMatch(/authorize/);
  });
});
