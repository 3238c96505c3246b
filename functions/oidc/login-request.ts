import type { Client } from '../clients/client.js';
import type { Signer } from '../signing/signer.js';
import type { LoginParams, Prompt } from '../records/authorization.js';
import type { Session } from '../sessions/session.js';
import { RedirectError } from './authorize-errors.js';
import { verifyIdTokenHint } from './id-token-hint.js';

/**
 * Checks of the OIDC parameters of a sign-in that does not start with `/init-auth` (OIDC Core
 * §3.1.2.1), validated into one `LoginParams`. Each check throws the error the spec names for it.
 */
const PROMPTS = new Set<Prompt>(['none', 'login', 'consent', 'select_account']);
/**
 * The levels, strongest first: `phishing-resistant` is a user-verifying passkey (WebAuthn Level 2
 * §6.2.3: bound to the origin, so no look-alike site can relay it; NIST SP 800-63B §5.2.5), `mfa`
 * two distinct methods (or that passkey), and one method.
 */
export const SUPPORTED_ACR = ['phishing-resistant', 'mfa', 'urn:identity:acr:single-factor'] as const;

export function checkPrompt(p: Record<string, string>): Prompt[] {
  const values = (p.prompt ?? '').split(' ').filter(Boolean);
  for (const v of values)
    if (!PROMPTS.has(v as Prompt))
      throw new RedirectError('invalid_request', `unsupported prompt value "${v}"`);
  // OIDC Core §3.1.2.1: `none` with any other value is an error.
  if (values.includes('none') && values.length > 1)
    throw new RedirectError('invalid_request', 'prompt=none cannot be combined with other values');
  return [...new Set(values)] as Prompt[];
}

export function checkMaxAge(p: Record<string, string>): number | undefined {
  if (p.max_age === undefined) return undefined;
  if (!/^\d{1,9}$/.test(p.max_age))
    throw new RedirectError('invalid_request', 'max_age must be a non-negative integer (seconds)');
  return Number(p.max_age);
}

/** The `claims` parameter (OIDC Core §5.5): JSON with optional `userinfo` and `id_token` members. */
export function checkClaims(p: Record<string, string>): string | undefined {
  if (p.claims === undefined) return undefined;
  if (p.claims.length > 4096) throw new RedirectError('invalid_request', 'claims is too long');
  let parsed: unknown;
  try {
    parsed = JSON.parse(p.claims);
  } catch {
    throw new RedirectError('invalid_request', 'claims is not valid JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new RedirectError('invalid_request', 'claims must be a JSON object');
  for (const [k, v] of Object.entries(parsed)) {
    if (k !== 'userinfo' && k !== 'id_token')
      throw new RedirectError('invalid_request', `claims member "${k}" is not userinfo or id_token`);
    if (!v || typeof v !== 'object' || Array.isArray(v))
      throw new RedirectError('invalid_request', `claims.${k} must be an object`);
  }
  return JSON.stringify(parsed);
}

/** RFC 8707 `resource` (or the common `audience` alias): absolute URIs the client may ask for. */
export function checkResource(p: Record<string, string>, client: Client): string[] | undefined {
  const value = p.resource ?? p.audience;
  if (value === undefined) return undefined;
  const allowed = new Set(client.resources);
  if (!allowed.has(value))
    throw new RedirectError('invalid_target', 'the requested resource is not registered for this client');
  return [value];
}

export function checkAcr(p: Record<string, string>): string[] {
  return (p.acr_values ?? '').split(' ').filter(Boolean);
}

/** How strong each level is: a stronger authentication satisfies a weaker request. */
const ACR_RANK: Record<string, number> = {
  'urn:identity:acr:single-factor': 1,
  mfa: 2,
  'phishing-resistant': 3,
};
const known = (values: readonly string[]) => values.filter((v) => ACR_RANK[v] !== undefined);

/**
 * `acr` requested as an essential claim (OIDC Core §5.5.1.1) through the `claims` parameter, in
 * `id_token` or `userinfo`: the values the client accepts. When none of them is a level this
 * provider has, the request cannot be met: `unmet_authentication_requirements` (OpenID Connect
 * Core Unmet Authentication Requirements 1.0 §2), the error §5.5.1.1 leaves to the OP's choice and
 * that tells the client why, rather than `access_denied`. Undefined when `acr` is not essential.
 */
export function checkEssentialAcr(claimsJson: string | undefined): string[] | undefined {
  if (!claimsJson) return undefined;
  const parsed = JSON.parse(claimsJson) as Record<string, Record<string, unknown>>;
  const asked = [parsed.id_token?.acr, parsed.userinfo?.acr].filter(
    (a): a is { essential?: unknown; value?: unknown; values?: unknown } => !!a && typeof a === 'object',
  );
  const essential = asked.filter((a) => a.essential === true);
  if (!essential.length) return undefined;
  const values = essential.flatMap((a) =>
    Array.isArray(a.values) ? a.values : a.value !== undefined ? [a.value] : Object.keys(ACR_RANK),
  );
  const usable = known(values.filter((v): v is string => typeof v === 'string'));
  if (!usable.length)
    throw new RedirectError(
      'unmet_authentication_requirements',
      `the essential acr values are not supported here (supported: ${SUPPORTED_ACR.join(', ')})`,
    );
  return [...new Set(usable)];
}

/**
 * The level the sign-in aims for: the weakest essential value (anything at least that strong
 * satisfies the client), else the client's first known `acr_values` preference (OIDC Core
 * §3.1.2.1: voluntary, the best the user can do is returned).
 */
export function targetAcr(params: Pick<LoginParams, 'acrValues' | 'acrEssential'>): {
  acr: string | undefined;
  essential: boolean;
} {
  if (params.acrEssential?.length) {
    const weakest = [...params.acrEssential].sort((a, b) => ACR_RANK[a]! - ACR_RANK[b]!)[0];
    return { acr: weakest, essential: true };
  }
  return { acr: known(params.acrValues)[0], essential: false };
}

/** Whether an authentication of level `achieved` reaches `wanted`. */
export const acrReaches = (achieved: string, wanted: string | undefined): boolean =>
  wanted === undefined || (ACR_RANK[achieved] ?? 0) >= (ACR_RANK[wanted] ?? Infinity);

/**
 * The `acr` claim for a sign-in of level `achieved`: what was achieved, except that an essential
 * request gets one of its own values (§5.5.1.1: the value returned must be one requested), the
 * strongest the authentication reached.
 */
export function acrClaim(achieved: string, params: Pick<LoginParams, 'acrEssential'>): string {
  const accepted = params.acrEssential;
  if (!accepted?.length || accepted.includes(achieved)) return achieved;
  const reached = accepted.filter((v) => acrReaches(achieved, v));
  return reached.sort((a, b) => ACR_RANK[b]! - ACR_RANK[a]!)[0] ?? achieved;
}

/**
 * `id_token_hint` (OIDC Core §3.1.2.1): an ID token this tenant issued to this client, expired or
 * not (an access token or another tenant's token is refused). A hint that is not one is an error;
 * its `sub` must match the session's user or the user must log in.
 */
export async function checkIdTokenHint(
  p: Record<string, string>,
  signer: Signer,
  issuer: string,
  clientId: string,
): Promise<string | undefined> {
  const hint = p.id_token_hint;
  if (hint === undefined) return undefined;
  const claims = await verifyIdTokenHint(hint, signer, issuer);
  if (!claims || claims.aud !== clientId)
    throw new RedirectError(
      'invalid_request',
      'id_token_hint is not an ID token this provider issued to this client',
    );
  return claims.sub;
}

/** Whether the session is fresh and strong enough for this request without asking the user again. */
export function sessionSatisfies(
  session: Session | undefined,
  params: LoginParams,
  now = Date.now(),
): boolean {
  if (!session) return false;
  if (params.prompt.includes('login')) return false;
  if (params.maxAge !== undefined && Math.floor(now / 1000) - session.authTime > params.maxAge) return false;
  if (params.hintSub !== undefined && params.hintSub !== session.userId) return false;
  if (!acrReaches(session.acr, targetAcr(params).acr)) return false;
  return true;
}
