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
export const SUPPORTED_ACR = ['mfa', 'urn:identity:acr:single-factor'] as const;

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
  if (params.acrValues.includes('mfa') && session.acr !== 'mfa') return false;
  return true;
}
