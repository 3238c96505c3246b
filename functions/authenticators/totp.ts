import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';

/**
 * RFC 6238 TOTP with the parameters every authenticator app supports: HMAC-SHA1, 6 digits, 30-second
 * steps. A code is accepted within ±1 step of the server's clock (RFC 6238 §5.2 transmission delay).
 */
export const TOTP_PARAMS = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
export const TOTP_WINDOW = 1;

/** 20 random bytes (160 bits, RFC 4226 §4's recommended length) as unpadded base32. */
export function newTotpSecretBase32(): string {
  return new Secret({ size: 20 }).base32;
}

/** A base32 secret of exactly 20 bytes, as `newTotpSecretBase32` makes them. */
export function isTotpSecret(secret: string): boolean {
  return /^[A-Z2-7]{32}$/.test(secret);
}

/** The `otpauth://totp/...` key URI that apps import (issuer prefix in the label and as a parameter). */
export function totpUri(secret: string, issuer: string, accountLabel: string): string {
  return new TOTP({
    issuer,
    label: accountLabel,
    secret: Secret.fromBase32(secret),
    ...TOTP_PARAMS,
  }).toString();
}

export async function totpQrSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
}

/** Digits only, spaces and dashes that people type or paste removed; undefined when not a 6-digit code. */
export function normaliseCode(code: string): string | undefined {
  const digits = code.replace(/[\s-]/g, '');
  return /^\d{6}$/.test(digits) ? digits : undefined;
}

/**
 * The time step a code belongs to, if it is valid for `secret` within ±1 step of `nowMs`
 * (otpauth compares in constant time); undefined otherwise. Callers accept a step only once.
 */
export function totpStep(secret: string, code: string, nowMs: number): number | undefined {
  const token = normaliseCode(code);
  if (token === undefined || !isTotpSecret(secret)) return undefined;
  const delta = TOTP.validate({
    token,
    secret: Secret.fromBase32(secret),
    ...TOTP_PARAMS,
    timestamp: nowMs,
    window: TOTP_WINDOW,
  });
  if (delta === null) return undefined;
  return TOTP.counter({ period: TOTP_PARAMS.period, timestamp: nowMs }) + delta;
}

/** The code of a secret at a time (tests and tools; the server never needs to produce codes). */
export function totpCode(secret: string, timestampMs: number): string {
  return TOTP.generate({ secret: Secret.fromBase32(secret), ...TOTP_PARAMS, timestamp: timestampMs });
}
