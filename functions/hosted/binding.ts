import { INTERACTION_TTL_SECONDS } from '../interaction/interaction.js';
import { setCookie } from '../sessions/cookies.js';

/**
 * The cookie binding an interaction to the browser that started it: HttpOnly, SameSite=Lax,
 * holding the binding value whose hash the interaction keeps. On https it is a `__Host-` cookie
 * (Secure, Path=/: the prefix forbids a narrower path; its name is per interaction anyway);
 * locally on http it is scoped to the interaction's own path. Read it from `schemeCookies`.
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
  return setCookie(cookieName(id), value, { secure, path: `/interaction/${id}`, maxAge });
}

export function clearCookie(id: string, secure: boolean): string {
  return bindingCookie(id, '', secure, 0);
}

/** The binding value this browser presents for an interaction, if any. */
export function presentedBinding(id: string, cookies: Record<string, string>): string | undefined {
  return cookies[cookieName(id)] || undefined;
}
