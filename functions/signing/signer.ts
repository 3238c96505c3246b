import { createHash } from 'node:crypto';
import { createLocalJWKSet, type JSONWebKeySet, type JWK } from 'jose';

/**
 * JWS algorithms this provider signs its tokens with (RFC 7518 §3, RFC 8037 §3.1). RS256 is the
 * default and what Azure AD B2C needs; a client may ask for another one
 * (`id_token_signed_response_alg`, `access_token_signed_response_alg`).
 */
export const SIGNING_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];
export const DEFAULT_SIGNING_ALG: SigningAlg = 'RS256';

/** The longest access or ID token lifetime a client may have (seconds): a retired key outlives it. */
export const MAX_TOKEN_LIFETIME_SECONDS = 86_400;

export interface SignOptions {
  /** The JWS `typ` (`JWT` by default; `at+jwt` for access tokens, RFC 9068 §2.1). */
  typ?: string;
  /** Default RS256. */
  alg?: SigningAlg;
}

/**
 * The signing port: token code signs through this interface and never sees key material. Adapters:
 * each tenant's own keys, sealed at rest and opened once per container (`tenant-keyring.ts`, the
 * default); the region's KMS key, which never leaves KMS (`kms-signer.ts`); a file-backed
 * development key (`local-signer.ts`).
 */
export interface Signer {
  /** The algorithms it can sign with now (discovery lists them). */
  algorithms(): Promise<SigningAlg[]>;
  /** Signs the claims as a compact JWS with the current key of the algorithm. */
  signJwt(payload: Record<string, unknown>, header?: SignOptions): Promise<string>;
  /** Public keys to publish: the current keys, the next ones, retired keys still inside their verification window. */
  publicKeys(): Promise<PublicJwk[]>;
}

export type PublicJwk = JWK & { kid: string; kty: string; alg: SigningAlg; use: 'sig' };

/** Raised when a client asks for an algorithm this signer has no key for. */
export class UnsupportedAlgorithmError extends Error {
  constructor(alg: string) {
    super(`no signing key for ${alg}`);
    this.name = 'UnsupportedAlgorithmError';
  }
}

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

const PUBLIC_MEMBERS = ['kty', 'n', 'e', 'crv', 'x', 'y'] as const;

/** The JWKS entry for a public key: only the public members, with `kid`, `alg` and `use`. */
export function publicJwk(jwk: JWK, kid: string, alg: SigningAlg = 'RS256'): PublicJwk {
  if (!jwk.kty) throw new Error('a JWK has a kty');
  const out: Record<string, string> = {};
  for (const m of PUBLIC_MEMBERS) if (typeof jwk[m] === 'string') out[m] = jwk[m];
  return { ...out, kty: jwk.kty, kid, alg, use: 'sig' };
}

type KeySet = ReturnType<typeof createLocalJWKSet>;
const keySets = new WeakMap<object, { ids: string; keySet: KeySet }>();

/**
 * The jose key set that verifies this signer's own tokens: its published keys, each bound to its
 * one `alg` (so no algorithm confusion), rebuilt only when the keys change (rotation).
 */
export async function verificationKeySet(
  signer: Signer,
): Promise<{ keySet: KeySet; algorithms: SigningAlg[] }> {
  const keys = await signer.publicKeys();
  const ids = keys.map((k) => `${k.kid}:${k.alg}`).join(',');
  let hit = keySets.get(signer);
  if (hit?.ids !== ids) {
    hit = { ids, keySet: createLocalJWKSet({ keys } as JSONWebKeySet) };
    keySets.set(signer, hit);
  }
  return { keySet: hit.keySet, algorithms: [...new Set(keys.map((k) => k.alg))] };
}
