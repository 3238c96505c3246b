import { MICROSOFT_CONSUMERS_TID, type StoredProvider } from './provider.js';

/**
 * Whether an ID token's `iss` is the one this provider may send (OIDC Core §3.1.3.7 rule 2: it
 * must exactly match the issuer).
 *
 * Microsoft's multi-tenant endpoints (`common`, `organizations`, `consumers`) publish the issuer
 * as a template, `https://login.microsoftonline.com/{tenantid}/v2.0`: each token carries the
 * issuer of the directory that signed the user in. The Microsoft identity platform's "validate
 * the issuer" rules: the token's `iss` must equal the template with the token's own `tid`
 * substituted, so a token whose `iss` names another directory than its `tid` is refused.
 * `organizations` excludes the personal-account directory; `consumers` admits it alone.
 */
export function issuerMatches(
  provider: Pick<StoredProvider, 'type' | 'issuer' | 'tenant'>,
  claims: {
    iss?: unknown;
    tid?: unknown;
  },
): boolean {
  if (typeof claims.iss !== 'string') return false;
  if (provider.type !== 'microsoft' || !isMultiTenant(provider.tenant)) return claims.iss === provider.issuer;
  const tid = typeof claims.tid === 'string' ? claims.tid.toLowerCase() : '';
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(tid)) return false;
  if (provider.tenant === 'organizations' && tid === MICROSOFT_CONSUMERS_TID) return false;
  if (provider.tenant === 'consumers' && tid !== MICROSOFT_CONSUMERS_TID) return false;
  return claims.iss === `https://login.microsoftonline.com/${tid}/v2.0`;
}

export const isMultiTenant = (tenant: string | undefined) =>
  tenant === 'common' || tenant === 'organizations' || tenant === 'consumers';

/**
 * Whether a discovery document's `issuer` is the one asked for (OpenID Connect Discovery §4.3),
 * allowing Microsoft's `{tenantid}` template for its multi-tenant endpoints.
 */
export function discoveredIssuerMatches(
  provider: Pick<StoredProvider, 'type' | 'issuer' | 'tenant'>,
  issuer: unknown,
): boolean {
  if (provider.type === 'microsoft' && isMultiTenant(provider.tenant))
    return issuer === 'https://login.microsoftonline.com/{tenantid}/v2.0' || issuer === provider.issuer;
  return issuer === provider.issuer;
}
