import { importPKCS8, SignJWT } from 'jose';
import { APPLE_ISSUER } from './provider.js';

/**
 * Sign in with Apple's client secret: not a stored string but an ES256 JWT the client makes from
 * its private key (Apple, "Creating a client secret"): header `kid` = the key id; `iss` = the team
 * id, `sub` = the client (Services) id, `aud` = https://appleid.apple.com, `iat`/`exp` at most six
 * months apart. Made per token request and short-lived, so a leaked one is soon worthless.
 */
export const APPLE_SECRET_TTL_SECONDS = 300;

export async function appleClientSecret(
  opts: { teamId: string; keyId: string; clientId: string; privateKeyPem: string },
  now = Date.now(),
): Promise<string> {
  const key = await importPKCS8(opts.privateKeyPem, 'ES256');
  const iat = Math.floor(now / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: opts.keyId })
    .setIssuer(opts.teamId)
    .setSubject(opts.clientId)
    .setAudience(APPLE_ISSUER)
    .setIssuedAt(iat)
    .setExpirationTime(iat + APPLE_SECRET_TTL_SECONDS)
    .sign(key);
}
