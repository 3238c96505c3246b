import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { verificationKeySet, type Signer } from '../signing/signer.js';
import { looksLikeJwt } from './access-tokens.js';

/** Longer than any ID token this provider signs (its claims are bounded); anything bigger is not ours. */
const MAX_HINT_LENGTH = 8192;

/** Claims every ID token carries (OIDC Core §2). */
const ID_TOKEN_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat'] as const;
/**
 * Claims of this provider's access tokens (RFC 9068 §2.2) that its ID tokens never carry: a token
 * with one of them is an access token, whatever its header says.
 */
const ACCESS_TOKEN_ONLY_CLAIMS = ['client_id', 'scope', 'gid', 'jti'] as const;

export interface IdTokenHint {
  sub: string;
  /** The client the ID token was issued to (its single audience). */
  aud: string;
  sid?: string;
}

/**
 * An `id_token_hint` (OIDC Core §3.1.2.1, RP-Initiated Logout §2): only an ID token this tenant
 * issued, expired or not. Its signature is one of this tenant's published keys (with that key's algorithm), `iss` is
 * this tenant's issuer, the header's `typ` (when present) is `JWT` — an access token is `at+jwt`
 * (RFC 9068 §2.1) —, it has every ID token claim and none that only access tokens carry, and its
 * audience is one client. Whether that client belongs to the tenant is the caller's check (it loads
 * the client). Anything else: `undefined`.
 */
export async function verifyIdTokenHint(
  hint: string,
  signer: Signer,
  issuer: string,
): Promise<IdTokenHint | undefined> {
  if (!hint || hint.length > MAX_HINT_LENGTH || !looksLikeJwt(hint)) return undefined;
  let payload: JWTPayload;
  try {
    const typ = decodeProtectedHeader(hint).typ;
    if (typ !== undefined && typ.toUpperCase() !== 'JWT') return undefined;
    const unverified = decodeJwt(hint);
    const { keySet, algorithms } = await verificationKeySet(signer);
    // An expired ID token is still a fine hint: check the signature as of its issue time.
    ({ payload } = await jwtVerify(hint, keySet, {
      issuer,
      algorithms,
      requiredClaims: [...ID_TOKEN_CLAIMS],
      currentDate: typeof unverified.iat === 'number' ? new Date(unverified.iat * 1000) : undefined,
    }));
  } catch {
    return undefined;
  }
  if (ACCESS_TOKEN_ONLY_CLAIMS.some((c) => c in payload)) return undefined;
  const aud = Array.isArray(payload.aud) && payload.aud.length === 1 ? payload.aud[0] : payload.aud;
  if (typeof payload.sub !== 'string' || typeof aud !== 'string' || typeof payload.auth_time !== 'number')
    return undefined;
  return { sub: payload.sub, aud, ...(typeof payload.sid === 'string' ? { sid: payload.sid } : {}) };
}
