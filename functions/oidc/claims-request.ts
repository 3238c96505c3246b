import { PROFILE_CLAIMS, profileClaims, SCOPE_CLAIMS, type Profile } from '../users/profile.js';

/**
 * The `claims` request parameter (OIDC Core §5.5): individual claims asked for the ID token or the
 * UserInfo response, beyond what the scopes release. Only claims this provider knows are honoured;
 * `essential`, `value` and `values` are accepted and, for profile claims, do not change the answer
 * (§5.5.1: the OP may return a claim even when a value does not match).
 */
export function requestedClaims(claimsJson: string | undefined, member: 'id_token' | 'userinfo'): string[] {
  if (!claimsJson) return [];
  try {
    const parsed = JSON.parse(claimsJson) as Record<string, Record<string, unknown> | undefined>;
    return Object.keys(parsed[member] ?? {}).filter((name) => PROFILE_CLAIMS.includes(name));
  } catch {
    return [];
  }
}

/** The requested profile claims the profile has values for. */
export function pickClaims(profile: Profile | undefined, names: string[]): Record<string, unknown> {
  if (!names.length || !profile) return {};
  const all = profileClaims(profile, Object.keys(SCOPE_CLAIMS));
  return Object.fromEntries(names.filter((n) => all[n] !== undefined).map((n) => [n, all[n]]));
}
