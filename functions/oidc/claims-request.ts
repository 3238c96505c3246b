import { PROFILE_CLAIMS, profileClaims, SCOPE_CLAIMS, type Profile } from '../users/profile.js';

/**
 * The `claims` request parameter (OIDC Core §5.5): individual claims asked for the ID token or the
 * UserInfo response. A claim is no way around scopes and consent: each one stands for the scope
 * that releases it (§5.4: email -> email, phone_number -> phone, address -> address, name and the
 * rest -> profile). At the authorization endpoint a claim whose scope the client may not have is
 * dropped (§5.5: a claim that is not available is simply not returned), and the scopes of the
 * remaining ones join the requested scope for consent (`consentScope`), so the consent page shows
 * them and a consent remembered for less does not cover them. `essential`, `value` and `values`
 * are accepted and, for profile claims, do not change the answer (§5.5.1).
 */
type Member = 'id_token' | 'userinfo';
const MEMBERS: Member[] = ['id_token', 'userinfo'];

/** The scope that releases a claim (OIDC Core §5.4), or undefined for a claim no scope releases. */
export function scopeOfClaim(name: string): string | undefined {
  return Object.entries(SCOPE_CLAIMS).find(([, names]) => (names as readonly string[]).includes(name))?.[0];
}

function parse(claimsJson: string | undefined): Partial<Record<Member, Record<string, unknown>>> {
  if (!claimsJson) return {};
  try {
    const parsed = JSON.parse(claimsJson) as unknown;
    return parsed && typeof parsed === 'object'
      ? (parsed as Partial<Record<Member, Record<string, unknown>>>)
      : {};
  } catch {
    return {};
  }
}

export function requestedClaims(claimsJson: string | undefined, member: Member): string[] {
  const asked = parse(claimsJson)[member];
  if (!asked || typeof asked !== 'object') return [];
  return Object.keys(asked).filter((name) => PROFILE_CLAIMS.includes(name));
}

/**
 * Names the claims request asks for beyond the profile's: candidates for the claims of a tenant
 * scope (`scopes/tenant-scopes.ts`), released only when such a scope is granted. Bounded, and
 * shaped as a custom attribute name, so the code never carries arbitrary input.
 */
export function otherRequestedClaims(claimsJson: string | undefined, member: Member): string[] {
  const asked = parse(claimsJson)[member];
  if (!asked || typeof asked !== 'object') return [];
  return Object.keys(asked)
    .filter((name) => !PROFILE_CLAIMS.includes(name) && /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/.test(name))
    .slice(0, 20);
}

/**
 * The claims request reduced to the claims whose scope the client may have (its registered
 * `scope`); undefined when nothing is left. Done once, at the authorization endpoint: what the
 * code carries is what consent was asked for.
 */
export function claimsWithin(claimsJson: string | undefined, allowedScope: string): string | undefined {
  const allowed = new Set(allowedScope.split(' '));
  const parsed = parse(claimsJson);
  const kept: Partial<Record<Member, Record<string, unknown>>> = {};
  for (const member of MEMBERS) {
    const names = [
      ...requestedClaims(claimsJson, member).filter((n) => allowed.has(scopeOfClaim(n) ?? '')),
      ...otherRequestedClaims(claimsJson, member),
    ];
    if (names.length) kept[member] = Object.fromEntries(names.map((n) => [n, parsed[member]![n]]));
  }
  return Object.keys(kept).length ? JSON.stringify(kept) : undefined;
}

/** The scopes the claims request stands for (OIDC Core §5.4), each once. */
export function claimScopes(claimsJson: string | undefined): string[] {
  const names = MEMBERS.flatMap((m) => requestedClaims(claimsJson, m));
  return [...new Set(names.map(scopeOfClaim).filter((s): s is string => s !== undefined))];
}

/** The scope consent is asked (and remembered) for: the requested scope and the claims' scopes. */
export function consentScope(scope: string, claimsJson: string | undefined): string {
  const scopes = scope.split(' ').filter(Boolean);
  return [...new Set([...scopes, ...claimScopes(claimsJson)])].join(' ');
}

/** Only the claim names whose scope the client may have (a guard where tokens are minted). */
export function namesWithin(names: string[], allowedScope: string): string[] {
  const allowed = new Set(allowedScope.split(' '));
  return names.filter((n) => allowed.has(scopeOfClaim(n) ?? ''));
}

/** The requested profile claims the profile has values for. */
export function pickClaims(profile: Profile | undefined, names: string[]): Record<string, unknown> {
  if (!names.length || !profile) return {};
  const all = profileClaims(profile, Object.keys(SCOPE_CLAIMS));
  return Object.fromEntries(names.filter((n) => all[n] !== undefined).map((n) => [n, all[n]]));
}
