import type { ClientRepository } from '../clients/client-repository.js';
import type { ResponseMode } from '../records/authorization.js';
import type { Signer } from '../signing/signer.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { Tenant } from '../tenants/tenant.js';

/** What the authorization endpoint works with: plain values the edge resolved, and the ports. */
export interface AuthorizeContext {
  tenant: Tenant;
  store: TenantStore;
  clients: ClientRepository;
  issuer: string;
  sourceIp: string;
  userAgent: string;
  acceptLanguage?: string;
  cookies: Record<string, string>;
  signer: Signer;
  now?: number;
}

export type AuthorizeOutcome =
  | { kind: 'response'; redirectUri: string; mode: ResponseMode; params: Record<string, string> }
  /** The user goes on to the hosted challenge (or enrollment) at /interaction/{id}, bound to this browser. */
  | { kind: 'interaction'; id: string; binding: string };

/** The validated parts of the request both flows build on. */
export interface ValidatedRequest {
  redirectUri: string;
  mode: ResponseMode;
  scope: string;
  pkce: { codeChallenge?: string; codeChallengeMethod?: 'S256' };
  now: number;
}

/** `{ [key]: value }` when the value is defined, else nothing (for exactOptional-friendly spreads). */
export function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
