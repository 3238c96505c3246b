import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { constantTimeEqual, randomSecret, secretMatches, sha256 } from '../../functions/crypto/secrets.js';

const decodedBits = (s: string) => Buffer.from(s, 'base64url').length * 8;

describe('randomSecret', () => {
  it('carries at least 256 bits, base64url-encoded without padding', () => {
    const s = randomSecret();
    expect(s).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodedBits(s)).toBeGreaterThanOrEqual(256);
    // base64url round-trips exactly (no padding, no lost bits)
    expect(Buffer.from(s, 'base64url').toString('base64url')).toBe(s);
  });

  it('honours a larger byte count', () => {
    expect(decodedBits(randomSecret(48))).toBe(384);
  });

  it('never repeats and is not biased towards a few values', () => {
    const secrets = Array.from({ length: 500 }, () => randomSecret());
    expect(new Set(secrets).size).toBe(500);
    // Every byte value shows up across 16,000 random bytes (a constant or narrow generator would not).
    const bytes = new Set<number>();
    for (const s of secrets) for (const b of Buffer.from(s, 'base64url')) bytes.add(b);
    expect(bytes.size).toBe(256);
  });
});

describe('sha256', () => {
  it('is the base64url SHA-256 of the UTF-8 value', () => {
    expect(sha256('abc')).toBe(createHash('sha256').update('abc').digest('base64url'));
    expect(sha256('é')).toBe(createHash('sha256').update(Buffer.from('é', 'utf8')).digest('base64url'));
    expect(sha256('abc')).not.toBe(sha256('abd'));
  });

  it('is not the value itself', () => {
    const s = randomSecret();
    expect(sha256(s)).not.toContain(s);
  });
});

describe('secretMatches', () => {
  const secret = randomSecret();
  const stored = sha256(secret);

  it('accepts the secret whose hash is stored', () => {
    expect(secretMatches(secret, stored)).toBe(true);
  });

  it.each([
    ['another secret', randomSecret()],
    ['the empty string', ''],
    ['the secret with one character changed', `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`],
    ['a prefix of the secret', secret.slice(0, -1)],
    ['the secret with a suffix', `${secret}x`],
    ['the stored hash itself', stored],
  ])('rejects %s', (_name, presented) => {
    expect(secretMatches(presented, stored)).toBe(false);
  });

  it('rejects stored hashes of a different length without throwing', () => {
    expect(secretMatches(secret, '')).toBe(false);
    expect(secretMatches(secret, stored.slice(0, -1))).toBe(false);
    expect(secretMatches(secret, `${stored}A`)).toBe(false);
    expect(secretMatches(secret, 'x'.repeat(1000))).toBe(false);
  });
});

describe('constantTimeEqual', () => {
  it.each([
    ['', '', true],
    ['abc', 'abc', true],
    ['é✓', 'é✓', true],
    ['abc', 'abd', false],
    ['abc', 'ABC', false],
    ['abc', 'abcd', false],
    ['abcd', 'abc', false],
    ['', 'a', false],
    ['a', '', false],
    ['x'.repeat(10_000), 'x'.repeat(10_000), true],
    ['x'.repeat(10_000), `${'x'.repeat(9_999)}y`, false],
  ])('%j vs %j → %s', (a, b, equal) => {
    expect(constantTimeEqual(a, b)).toBe(equal);
  });
});
