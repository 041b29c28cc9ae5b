const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const TOKEN_BYTES = 32;
// Random bytes are drawn for 64 tokens at a time: one getRandomValues call and a btoa per token
// were most of a refresh's CPU, though a refresh never uses the token it is offered.
const POOL_TOKENS = 64;
let pool = new Uint8Array(0);
let offset = TOKEN_BYTES;

/** A lease secret: 256 random bits, base64url. Web Crypto exists in browsers and Node ≥ 19. */
export function createLockToken(): string {
  if (offset + TOKEN_BYTES > pool.length) {
    pool = globalThis.crypto.getRandomValues(new Uint8Array(TOKEN_BYTES * POOL_TOKENS));
    offset = 0;
  }
  const token = base64Url32(pool, offset);
  // Bytes handed out are wiped: nothing left in memory can be read back as a token.
  pool.fill(0, offset, offset + TOKEN_BYTES);
  offset += TOKEN_BYTES;
  return token;
}

/** The 32 bytes at `start`, base64url without padding (43 characters). */
export function base64Url32(bytes: Uint8Array, start: number): string {
  const at = (i: number): number => bytes[start + i] ?? 0;
  let text = '';
  // 10 groups of 3 bytes make 4 characters each; the last 2 bytes make 3.
  for (let i = 0; i < 30; i += 3) {
    const n = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    text +=
      ALPHABET.charAt(n >> 18) +
      ALPHABET.charAt((n >> 12) & 63) +
      ALPHABET.charAt((n >> 6) & 63) +
      ALPHABET.charAt(n & 63);
  }
  const n = (at(30) << 8) | at(31);
  return (
    text +
    ALPHABET.charAt(n >> 10) +
    ALPHABET.charAt((n >> 4) & 63) +
    ALPHABET.charAt((n << 2) & 63)
  );
}
