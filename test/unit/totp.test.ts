import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  isTotpSecret,
  newTotpSecretBase32,
  normaliseCode,
  totpCode,
  totpQrSvg,
  totpStep,
  totpUri,
} from '../../functions/authenticators/totp.js';

/** An independent RFC 6238 (HMAC-SHA1, 6 digits, 30 s) so the module is checked against the spec, not itself. */
function rfc6238(secret: Buffer, timeMs: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(timeMs / 1000 / 30)));
  const mac = createHmac('sha1', secret).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const bin = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(bin % 1_000_000).padStart(6, '0');
}

function base32Decode(s: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of s) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The middle of a 30-second step, so ±1 step is unambiguous. */
const T = Math.floor(Date.now() / 30_000) * 30_000 + 15_000;
const STEP = T / 30_000 - 0.5;

describe('TOTP', () => {
  const secret = newTotpSecretBase32();

  it('makes 20-byte base32 secrets, each different', () => {
    expect(isTotpSecret(secret)).toBe(true);
    expect(base32Decode(secret)).toHaveLength(20);
    expect(newTotpSecretBase32()).not.toBe(secret);
    expect(isTotpSecret('abc')).toBe(false);
    expect(isTotpSecret(secret.toLowerCase())).toBe(false);
  });

  it('produces RFC 6238 codes (the RFC test vector, and a random secret)', () => {
    // RFC 6238 Appendix B, SHA-1, T = 59 s: 94287082 (8 digits) → last 6 digits 287082.
    const rfcSecret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // "12345678901234567890"
    expect(totpCode(rfcSecret, 59_000)).toBe('287082');
    expect(totpCode(secret, T)).toBe(rfc6238(base32Decode(secret), T));
  });

  it('accepts the current code, and returns its step', () => {
    expect(totpStep(secret, rfc6238(base32Decode(secret), T), T)).toBe(STEP);
  });

  it('accepts the previous and the next step (window ±1), not two steps away', () => {
    const key = base32Decode(secret);
    expect(totpStep(secret, rfc6238(key, T - 30_000), T)).toBe(STEP - 1);
    expect(totpStep(secret, rfc6238(key, T + 30_000), T)).toBe(STEP + 1);
    // A fixed secret and time, so the two-steps-away codes are known to differ from those in the window.
    const fixed = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    const t = 1_700_000_025_000; // the middle of step 56,666,667
    const codes = [-2, -1, 0, 1, 2].map((d) => totpCode(fixed, t + d * 30_000));
    expect(new Set(codes).size).toBe(5);
    expect(codes.map((c) => totpStep(fixed, c, t))).toEqual([
      undefined,
      56_666_666,
      56_666_667,
      56_666_668,
      undefined,
    ]);
  });

  it('refuses a wrong code, a malformed one and a bad secret', () => {
    const fixed = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    const t = 1_700_000_025_000;
    const window = [-1, 0, 1].map((d) => totpCode(fixed, t + d * 30_000));
    const wrong = ['000000', '111111', '123456', '999999'].find((c) => !window.includes(c))!;
    expect(totpStep(fixed, wrong, t)).toBeUndefined();
    const right = totpCode(secret, T);
    expect(totpStep(secret, '12345', T)).toBeUndefined();
    expect(totpStep(secret, '1234567', T)).toBeUndefined();
    expect(totpStep(secret, 'abcdef', T)).toBeUndefined();
    expect(totpStep('NOT-A-SECRET', right, T)).toBeUndefined();
  });

  it('tolerates spaces and dashes people type', () => {
    const right = totpCode(secret, T);
    expect(normaliseCode(`${right.slice(0, 3)} ${right.slice(3)}`)).toBe(right);
    expect(totpStep(secret, `${right.slice(0, 3)}-${right.slice(3)}`, T)).toBe(STEP);
    expect(normaliseCode(' 12 34 56 ')).toBe('123456');
    expect(normaliseCode('12a456')).toBeUndefined();
  });

  it('builds the otpauth:// URI every app imports, and a QR code of it', async () => {
    const uri = totpUri(secret, 'Acme Corp', 'jane@example.com');
    const url = new URL(uri);
    expect(url.protocol).toBe('otpauth:');
    expect(url.host).toBe('totp');
    expect(decodeURIComponent(url.pathname)).toBe('/Acme Corp:jane@example.com');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      issuer: 'Acme Corp',
      secret,
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
    const svg = await totpQrSvg(uri);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('</svg>');
  });
});
