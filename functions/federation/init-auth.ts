import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { actionCodeSchema } from '../actions/action.js';
import { isClientId } from '../clients/client.js';
import { clientExists } from '../clients/client-repository.js';
import { badRequest } from '../errors.js';
import { randomSecret, sha256 } from '../crypto/secrets.js';
import { ConditionFailedError, nowSeconds } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { ATTEMPT_TTL_SECONDS, attemptKey, type Attempt } from './attempt.js';

const customValue = z.union([z.string().max(1024), z.number().finite(), z.boolean()]);

/** Body of `POST /init-auth`. Unknown fields are ignored, as B2C may send more claims. */
export const initAuthSchema = z.object({
  userId: z
    .string()
    .min(1, 'userId is required')
    .max(256, 'userId is at most 256 characters')
    .regex(/^[^\p{Cc}]+$/u, 'userId has no control characters'),
  action: actionCodeSchema,
  appId: z.string().max(256).optional(),
  /**
   * The client whose `/oidc/auth` request may use the token; without it, the built-in client. The
   * token is bound to it, so no other client of the tenant (a public app, say) can get the code.
   */
  clientId: z.string().refine(isClientId, 'clientId is not a client id').optional(),
  scope: z.string().max(1024).optional(),
  custom: z
    .record(z.string().min(1).max(64), customValue)
    .refine((o) => Object.keys(o).length <= 50, 'custom has at most 50 data points')
    .optional(),
  redirectToSettings: z.boolean().optional(),
  // B2C's GenerateJson sends whatever the claim holds; an empty string means "no email".
  email: z
    .string()
    .max(320)
    .transform((s) => s.trim())
    .pipe(z.union([z.literal(''), z.email('email is not a valid address')]))
    .optional(),
});

export type InitAuthInput = z.output<typeof initAuthSchema>;

/** Retries of the same call inside this window return the same idempotency key (B2C retries within 30 s). */
export const RETRY_WINDOW_SECONDS = 60;

const retryKey = (fingerprint: string) => ({ pk: `init#${fingerprint}`, sk: 'init' });

export interface InitAuthResult {
  token: string;
  idempotencyKey: string;
  expiresIn: number;
}

/**
 * Starts a federated flow. Azure AD B2C retries a RESTful call up to three times in 30 seconds, so a
 * repeat of the same call (same user, action and data) shortly after returns the same idempotency
 * key with a new token that replaces the old one: there is still only one flow to complete and one
 * outcome to record, and a token the caller never received is dead.
 */
export async function initAuth(
  store: TenantStore,
  input: InitAuthInput,
  now = Date.now(),
): Promise<InitAuthResult> {
  // A token for the built-in client names none: the tenant id is the default.
  const clientId = input.clientId === store.tenantId ? undefined : input.clientId;
  if (clientId !== undefined && !(await clientExists(store, clientId)))
    throw badRequest('clientId is not a client of this tenant');
  const fingerprint = sha256(
    JSON.stringify([
      input.userId,
      clientId ?? '',
      input.action,
      input.appId,
      input.scope,
      sortKeys(input.custom ?? {}),
      input.redirectToSettings ?? false,
      input.email ?? '',
    ]),
  );
  const secret = randomSecret();
  const tokenHash = sha256(secret);
  const expiresAt = nowSeconds(now) + ATTEMPT_TTL_SECONDS;

  const previous = await store.get<{ idempotencyKey: string }>(retryKey(fingerprint));
  if (previous) {
    try {
      // Re-arm the pending attempt with the new token, unless it has already been used.
      await store.update(
        attemptKey(previous.idempotencyKey),
        { tokenHash, expiresAt, rearmedAt: now },
        { unconsumed: true },
      );
      return {
        token: `${previous.idempotencyKey}.${secret}`,
        idempotencyKey: previous.idempotencyKey,
        expiresIn: ATTEMPT_TTL_SECONDS,
      };
    } catch (err) {
      if (!(err instanceof ConditionFailedError)) throw err;
    }
  }

  const idempotencyKey = randomUUID();
  const attempt: Attempt = {
    idempotencyKey,
    userId: input.userId,
    action: input.action,
    ...(input.appId ? { appId: input.appId } : {}),
    ...(clientId ? { clientId } : {}),
    ...(input.scope ? { scope: input.scope } : {}),
    ...(input.email ? { email: input.email } : {}),
    custom: input.custom ?? {},
    redirectToSettings: input.redirectToSettings ?? false,
    tokenHash,
    createdAt: new Date(now).toISOString(),
    expiresAt,
  };
  await store.put(attemptKey(idempotencyKey), { ...attempt });
  await store.put(retryKey(fingerprint), {
    idempotencyKey,
    expiresAt: nowSeconds(now) + RETRY_WINDOW_SECONDS,
  });
  return { token: `${idempotencyKey}.${secret}`, idempotencyKey, expiresIn: ATTEMPT_TTL_SECONDS };
}

function sortKeys(o: Record<string, unknown>): [string, unknown][] {
  return Object.entries(o).sort(([a], [b]) => a.localeCompare(b));
}
