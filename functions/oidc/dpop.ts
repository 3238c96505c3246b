import { createHash, createHmac } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify, type JWTPayload } from 'jose';
import { constantTimeEqual, sha256 } from '../crypto/secrets.js';
import { ProtocolError } from '../errors.js';
import { ConditionFailedError, nowSeconds } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';

/**
 * OAuth 2.0 Demonstrating Proof of Possession (RFC 9449): checking a `DPoP` proof JWT (§4.3),
 * its server nonce (§8) and its one-time use (§11.1). The token endpoint turns a valid proof into
 * a key-bound access token; protected resources check that the proof's key is the token's.
 */

/**
 * Asymmetric algorithms only (RFC 9449 §4.2: never `none`, never a MAC). `Ed25519` is RFC 9864's
 * fully-specified name for EdDSA with Ed25519.
 */
export const DPOP_ALGS = ['ES256', 'RS256', 'PS256', 'EdDSA', 'Ed25519'] as const;

/** How far a proof's `iat` may be from now, either way (RFC 9449 §4.3 step 11, §11.1). */
export const DPOP_IAT_WINDOW_SECONDS = 60;

/** A nonce is good for the period it was made in and the next one: 5 to 10 minutes (RFC 9449 §8). */
export const DPOP_NONCE_PERIOD_SECONDS = 300;

/** Larger than a proof with an RSA-4096 key and every claim; anything bigger is refused unread. */
const MAX_PROOF_LENGTH = 4096;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** Where the proof is checked: the error codes and status differ (RFC 9449 §5, §7.1). */
export type ProofSite = 'token' | 'resource';

export interface ProofRequest {
  /** The `DPoP` header as received; repeated headers arrive joined with commas. */
  proof: string | undefined;
  /** The request's method (`htm`). */
  method: string;
  /** The endpoint's public URL, as discovery names it (`htu`). */
  url: string;
  /** The tenant's key for stateless nonces (see `dpopNonce`). */
  nonceKey: string;
  now?: number;
}

export interface ProofOptions {
  site: ProofSite;
  /** Require a server nonce (RFC 9449 §8): the client's `require_dpop_nonce`. */
  requireNonce: boolean;
  /** At a protected resource: the access token the proof must be bound to by `ath` (§4.3 step 11). */
  accessToken?: string;
}

/** What a valid proof proves: possession of the key with this JWK SHA-256 thumbprint (RFC 7638). */
export interface VerifiedProof {
  jkt: string;
  /** The nonce to send back in `DPoP-Nonce`, when the client needs nonces. */
  nonce?: string;
}

const ALGS_PARAM = `algs="${DPOP_ALGS.join(' ')}"`;

/**
 * The error of a DPoP check in the style of the place it happens: at the token endpoint a 400 with
 * the code in the JSON body (RFC 9449 §5), at a protected resource a 401 with a `DPoP` challenge
 * that lists the algorithms (§7.1). A missing or stale nonce also sends a fresh one (§8, §9).
 */
export function dpopError(
  site: ProofSite,
  code: 'invalid_dpop_proof' | 'use_dpop_nonce' | 'invalid_token',
  description: string,
  nonce?: string,
): ProtocolError {
  const headers: Record<string, string> = nonce ? { 'dpop-nonce': nonce } : {};
  if (site === 'token') return new ProtocolError(400, code, description, headers);
  const safe = description.replace(/["\\]/g, '');
  headers['www-authenticate'] = `DPoP error="${code}", error_description="${safe}", ${ALGS_PARAM}`;
  return new ProtocolError(401, code, description, headers);
}

/** The `DPoP` challenge of a protected resource request that carried no token (RFC 9449 §7.1). */
export const DPOP_CHALLENGE = `DPoP ${ALGS_PARAM}`;

/**
 * A stateless server nonce (RFC 9449 §8): the HMAC of the current period under the tenant's key,
 * so any Lambda of the region can check it without a table read, and it changes every period.
 */
export function dpopNonce(key: string, now = Date.now(), periodsAgo = 0): string {
  const period = Math.floor(now / 1000 / DPOP_NONCE_PERIOD_SECONDS) - periodsAgo;
  return createHmac('sha256', key).update(`dpop-nonce:${period}`).digest('base64url');
}

const nonceValid = (value: unknown, key: string, now: number): boolean =>
  typeof value === 'string' &&
  value.length <= 64 &&
  [0, 1].some((ago) => constantTimeEqual(value, dpopNonce(key, now, ago)));

/** `ath`: base64url of the SHA-256 of the access token's ASCII octets (RFC 9449 §4.2). */
export const accessTokenHash = (token: string): string =>
  createHash('sha256').update(token, 'ascii').digest('base64url');

/**
 * URIs compared after syntax-based normalisation (RFC 9449 §4.3 step 9, RFC 3986 §6.2.2): WHATWG
 * URL parsing lowercases scheme and host and drops default ports; percent-encoded unreserved
 * characters are decoded and other escapes uppercased. Query and fragment are ignored (§4.2).
 */
export function normalisedHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const path = url.pathname.replace(/%[0-9a-fA-F]{2}/g, (esc) => {
    const ch = String.fromCharCode(parseInt(esc.slice(1), 16));
    return /[A-Za-z0-9\-._~]/.test(ch) ? ch : esc.toUpperCase();
  });
  return `${url.protocol}//${url.host}${path}`;
}

/** The proof's header: `typ`, an allowed `alg`, and a public `jwk` (RFC 9449 §4.3 steps 4–7). */
function checkHeader(proof: string, site: ProofSite): void {
  const invalid = (why: string) => dpopError(site, 'invalid_dpop_proof', why);
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw invalid('the DPoP proof is not a JWT');
  }
  if (header.typ !== 'dpop+jwt') throw invalid('the DPoP proof must have typ "dpop+jwt"');
  if (!DPOP_ALGS.includes(header.alg as (typeof DPOP_ALGS)[number]))
    throw invalid(`the DPoP proof must be signed with one of ${DPOP_ALGS.join(', ')}`);
  const jwk = header.jwk as Record<string, unknown> | undefined;
  if (!jwk || typeof jwk !== 'object') throw invalid('the DPoP proof must carry the public key in "jwk"');
  if (PRIVATE_MEMBERS.some((m) => m in jwk))
    throw invalid('the DPoP proof\'s "jwk" must not contain private key members');
}

/** Signature, `iat` window and the claims of the request (RFC 9449 §4.3 steps 6–11). */
async function checkPayload(
  proof: string,
  req: ProofRequest,
  opts: ProofOptions,
  now: number,
): Promise<{ payload: JWTPayload; jwk: Record<string, unknown> }> {
  const invalid = (why: string) => dpopError(opts.site, 'invalid_dpop_proof', why);
  let verified;
  try {
    verified = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: [...DPOP_ALGS],
      requiredClaims: ['jti', 'htm', 'htu', 'iat'],
      currentDate: new Date(now),
    });
  } catch {
    throw invalid("the DPoP proof's signature or claims are invalid");
  }
  const { payload, protectedHeader } = verified;
  if (typeof payload.jti !== 'string' || payload.jti.length < 8 || payload.jti.length > 200)
    throw invalid("the DPoP proof's jti must be a string of 8 to 200 characters");
  if (payload.htm !== req.method) throw invalid("the DPoP proof's htm is not the method of this request");
  const htu = typeof payload.htu === 'string' ? normalisedHtu(payload.htu) : undefined;
  if (!htu || htu !== normalisedHtu(req.url)) throw invalid("the DPoP proof's htu is not this endpoint");
  const iat = payload.iat!;
  if (Math.abs(nowSeconds(now) - iat) > DPOP_IAT_WINDOW_SECONDS)
    throw invalid(`the DPoP proof's iat is more than ${DPOP_IAT_WINDOW_SECONDS} seconds from now`);
  if (opts.accessToken !== undefined) {
    const ath = payload.ath;
    if (typeof ath !== 'string' || !constantTimeEqual(ath, accessTokenHash(opts.accessToken)))
      throw invalid("the DPoP proof's ath is not the hash of this access token");
  }
  return { payload, jwk: protectedHeader.jwk as Record<string, unknown> };
}

/** The proof's jti, key and target, as stored: hashed, so the table holds nothing of the proof. */
const replayKey = (jkt: string, htm: string, htu: string, jti: string) => ({
  pk: `dpop-jti#${sha256(`${jkt}\n${htm}\n${htu}\n${jti}`)}`,
  sk: 'dpop-jti',
});

/**
 * Checks a DPoP proof (RFC 9449 §4.3) and uses it up: one conditional write records its `jti`
 * (with the key and target) until it could no longer pass the `iat` window, so of any number of
 * concurrent presentations exactly one passes (§11.1). Nonces are checked before that write.
 */
export async function verifyDpopProof(
  store: TenantStore,
  req: ProofRequest,
  opts: ProofOptions,
): Promise<VerifiedProof> {
  const proof = req.proof;
  const site = opts.site;
  const now = req.now ?? Date.now();
  if (!proof) throw dpopError(site, 'invalid_dpop_proof', 'a DPoP proof is required (DPoP header)');
  // Repeated DPoP headers arrive joined with commas; a JWS has none (RFC 9449 §4.3 step 1).
  if (proof.includes(',')) throw dpopError(site, 'invalid_dpop_proof', 'send exactly one DPoP header');
  if (proof.length > MAX_PROOF_LENGTH || !COMPACT_JWS.test(proof))
    throw dpopError(site, 'invalid_dpop_proof', 'the DPoP proof is not a compact JWS');
  checkHeader(proof, site);
  const { payload, jwk } = await checkPayload(proof, req, opts, now);
  const fresh = opts.requireNonce ? dpopNonce(req.nonceKey, now) : undefined;
  if (opts.requireNonce && !nonceValid(payload.nonce, req.nonceKey, now))
    throw dpopError(site, 'use_dpop_nonce', 'use the server-provided DPoP nonce', fresh);
  const jkt = await calculateJwkThumbprint(jwk as Parameters<typeof calculateJwkThumbprint>[0], 'sha256');
  try {
    await store.put(
      replayKey(jkt, req.method, normalisedHtu(req.url)!, payload.jti!),
      { expiresAt: Math.max(payload.iat!, nowSeconds(now)) + DPOP_IAT_WINDOW_SECONDS + 1 },
      { ifAbsent: true },
    );
  } catch (err) {
    if (err instanceof ConditionFailedError)
      throw dpopError(site, 'invalid_dpop_proof', 'this DPoP proof has already been used');
    throw err;
  }
  return { jkt, ...(fresh ? { nonce: fresh } : {}) };
}

/** How an access token came to a protected resource: its scheme and the DPoP header with it. */
export interface PresentedToken {
  token: string;
  scheme: 'Bearer' | 'DPoP';
}

/**
 * The token endpoint's proof (RFC 9449 §5): none is fine unless the client registered
 * `dpop_bound_access_tokens` (§5.2); one that is sent must be valid. `undefined`: a bearer token.
 */
export async function tokenRequestProof(
  store: TenantStore,
  req: ProofRequest,
  client: { dpop_bound_access_tokens?: boolean; require_dpop_nonce?: boolean },
): Promise<VerifiedProof | undefined> {
  if (req.proof === undefined && !client.dpop_bound_access_tokens) return undefined;
  if (req.proof === undefined)
    throw dpopError(
      'token',
      'invalid_dpop_proof',
      'this client must send a DPoP proof (dpop_bound_access_tokens)',
    );
  return verifyDpopProof(store, req, { site: 'token', requireNonce: client.require_dpop_nonce === true });
}

/**
 * A protected resource's check of the token's sender constraint (RFC 9449 §7): a DPoP-bound token
 * (`cnf.jkt`) must come with the `DPoP` scheme and a proof by that key for this token (`ath`); it
 * is refused as a Bearer token (§7.2), and the `DPoP` scheme is refused for a token not bound.
 * Returns the nonce to send back, if the client needs nonces.
 */
export async function checkSenderConstraint(
  store: TenantStore,
  presented: PresentedToken,
  cnf: { jkt?: unknown } | undefined,
  req: ProofRequest,
  requireNonce: () => Promise<boolean>,
): Promise<string | undefined> {
  const jkt = typeof cnf?.jkt === 'string' ? cnf.jkt : undefined;
  if (presented.scheme === 'Bearer') {
    if (jkt) throw dpopError('resource', 'invalid_token', 'a DPoP-bound access token needs the DPoP scheme');
    return undefined;
  }
  if (!jkt) throw dpopError('resource', 'invalid_token', 'the access token is not DPoP-bound: use Bearer');
  const proof = await verifyDpopProof(store, req, {
    site: 'resource',
    requireNonce: await requireNonce(),
    accessToken: presented.token,
  });
  if (!constantTimeEqual(proof.jkt, jkt))
    throw dpopError(
      'resource',
      'invalid_dpop_proof',
      "the DPoP proof is not signed with the access token's key",
    );
  return proof.nonce;
}
