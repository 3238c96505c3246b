import { INTERACTION_TTL_SECONDS } from '../interaction/interaction.js';

/**
 * The cookie binding an interaction to the browser that started it: HttpOnly, SameSite=Lax and
 * scoped to the interaction's own path, holding the binding value whose hash the interaction keeps.
 */
export function cookieName(id: string): string {
  return `idp_ix_${id.slice(0, 12)}`;
}

export function bindingCookie(
  id: string,
  value: string,
  secure: boolean,
  maxAge = INTERACTION_TTL_SECONDS,
): string {
  return `${cookieName(id)}=${value}; Path=/interaction/${id}; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}

export function clearCookie(id: string, secure: boolean): string {
  return bindingCookie(id, '', secure, 0);
}

/** The binding value this browser presents for an interaction, if any. */
export function presentedBinding(id: string, cookies: Record<string, string>): string | undefined {
  return cookies[cookieName(id)] || undefined;
}
