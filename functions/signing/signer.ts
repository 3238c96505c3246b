import { createHash } from 'node:crypto';
import type { JWK } from 'jose';

/**
 * The signing port: token code signs through this interface and never sees key material; on AWS
 * the private key never leaves KMS. Tokens are RS256 JWTs whose `kid` names a key in the region's
 * JWKS. Adapters: KMS on AWS (`kms-signer.ts`), a file-backed key for development
 * (`local-signer.ts`).
 */
export interface Signer {
  readonly alg: 'RS256';
  /** Signs the claims as a compact JWS with the current key. */
  signJwt(payload: Record<string, unknown>, header?: { typ?: string }): Promise<string>;
  /** Public keys to publish: the current key first, then retired keys still inside their verification window. */
  publicKeys(): Promise<PublicJwk[]>;
}

export type PublicJwk = JWK & { kid: string; kty: 'RSA'; alg: 'RS256'; use: 'sig'; n: string; e: string };

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/**
 * Builds a compact JWS (RFC 7515 §7.1) around a raw RS256 signature. Written by hand because the
 * private key may live in KMS, which jose cannot sign with; jose verifies everything we produce in
 * the tests.
 */
export async function compactJws(
  kid: string,
  payload: Record<string, unknown>,
  header: { typ?: string },
  signSha256Digest: (digest: Buffer, signingInput: Buffer) => Promise<Uint8Array>,
): Promise<string> {
  const signingInput = `${b64({ alg: 'RS256', typ: header.typ ?? 'JWT', kid })}.${b64(payload)}`;
  const input = Buffer.from(signingInput, 'ascii');
  const digest = createHash('sha256').update(input).digest();
  const signature = await signSha256Digest(digest, input);
  return `${signingInput}.${Buffer.from(signature).toString('base64url')}`;
}

/** The JWKS entry for an RSA public key: only the public members, with `kid`, `alg` and `use`. */
export function publicJwk(jwk: JWK, kid: string): PublicJwk {
  if (jwk.kty !== 'RSA' || !jwk.n || !jwk.e) throw new Error('signing keys must be RSA');
  return { kty: 'RSA', n: jwk.n, e: jwk.e, kid, alg: 'RS256', use: 'sig' };
}
