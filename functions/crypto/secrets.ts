import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Random secrets and their hashes. Every secret this product issues (tenant and client secrets,
 * codes, tokens) is 256 random bits, so a plain SHA-256 is the right hash at rest: there is nothing
 * to brute-force, and a slow KDF would only cost latency. Secrets are stored only as hashes.
 */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256(value: string): string {
  // One-shot `hash` (Node ≥ 20.12) skips the Hash object createHash builds: this runs on every
  // authenticated request.
  return hash('sha256', value, 'base64url');
}

/** Compares a presented secret with a stored hash in constant time. */
export function secretMatches(presented: string, storedHash: string): boolean {
  const a = Buffer.from(sha256(presented), 'utf8');
  const b = Buffer.from(storedHash, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Constant-time equality of two strings of any length (lengths may leak; contents do not). */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = hash('sha256', a, 'buffer');
  const hb = hash('sha256', b, 'buffer');
  return timingSafeEqual(ha, hb) && a.length === b.length;
}
