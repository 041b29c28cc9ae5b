import { describe, expect, it } from 'vitest';
import { base64Url32, createLockToken } from '../../server-adapter/service/lock-token';

describe('lock tokens', () => {
  it('encode 32 bytes exactly as base64url without padding', () => {
    for (let round = 0; round < 200; round++) {
      const bytes = globalThis.crypto.getRandomValues(new Uint8Array(40));
      const start = round % 8;
      expect(base64Url32(bytes, start)).toBe(
        Buffer.from(bytes.subarray(start, start + 32)).toString('base64url'),
      );
    }
    expect(base64Url32(new Uint8Array(32).fill(255), 0)).toBe(
      Buffer.alloc(32, 255).toString('base64url'),
    );
  });

  it('are 43 url-safe characters, and never repeat across many pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const token = createLockToken();
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      seen.add(token);
    }
    expect(seen.size).toBe(5000);
  });
});
