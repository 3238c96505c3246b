import type { AuthenticatorRecord, AuthenticatorView } from './types.js';

/** `jane@example.com` → `j•••@example.com`: enough for the user to recognise, little for anyone else. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  if (at <= 0) return '•••';
  return `${address.slice(0, 1)}•••${address.slice(at)}`;
}

/**
 * An address as we keep it: trimmed, the domain lower-cased (domains are case-insensitive; the
 * local part, strictly, is not, so it is left alone).
 */
export function normaliseEmail(address: string): string {
  const trimmed = address.trim();
  const at = trimmed.lastIndexOf('@');
  return at < 0 ? trimmed : trimmed.slice(0, at) + trimmed.slice(at).toLowerCase();
}

export const DEFAULT_NAMES = {
  PASSKEY: 'Passkey',
  AUTHENTICATOR_APP: 'Authenticator app',
} as const;

/** What may leave the service: never a TOTP secret, a public key or an address in clear. */
export function toView(a: AuthenticatorRecord): AuthenticatorView {
  return {
    id: a.id,
    type: a.type,
    name: a.name,
    createdAt: a.createdAt,
    ...(a.lastUsedAt ? { lastUsedAt: a.lastUsedAt } : {}),
  };
}
