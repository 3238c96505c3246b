import type { TenantStore } from '../store/tenant-store.js';

/**
 * A started `/init-auth` flow, waiting for the user at `/oidc/auth`. Keyed by its idempotency key;
 * the init-auth token is `<idempotencyKey>.<secret>` and only the secret's hash is stored. The token
 * is consumed with one conditional write (never read-then-write), so it works once.
 */
export interface Attempt {
  idempotencyKey: string;
  userId: string;
  action: string;
  appId?: string;
  /** The client the token may be used with; absent: the tenant's built-in client (client id = tenant id). */
  clientId?: string;
  scope?: string;
  email?: string;
  custom: Record<string, string | number | boolean>;
  redirectToSettings: boolean;
  tokenHash: string;
  createdAt: string;
  expiresAt: number;
  consumedAt?: number;
}

export const ATTEMPT_TTL_SECONDS = 600;

/** The client an attempt's token is bound to. */
export const boundClient = (attempt: Pick<Attempt, 'clientId'>, tenantId: string): string =>
  attempt.clientId ?? tenantId;

export const attemptKey = (idempotencyKey: string) => ({ pk: `attempt#${idempotencyKey}`, sk: 'attempt' });

export function splitToken(token: string): { idempotencyKey: string; secret: string } | undefined {
  const m = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(token);
  return m ? { idempotencyKey: m[1]!, secret: m[2]! } : undefined;
}

export async function readAttempt(store: TenantStore, idempotencyKey: string): Promise<Attempt | undefined> {
  return store.get<Attempt & Record<string, unknown>>(attemptKey(idempotencyKey));
}
