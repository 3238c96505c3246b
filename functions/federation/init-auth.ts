import { randomUUID } from 'node:crypto';
import * as z from '../zod.js';
import { actionCodeSchema } from '../actions/action.js';
import { isClientId } from '../clients/client.js';
import { clientExists } from '../clients/client-repository.js';
import { BackendUnavailableError, badRequest } from '../errors.js';
import { randomSecret, sha256 } from '../crypto/secrets.js';
import { ConditionFailedError, nowSeconds, type WriteOp } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { ATTEMPT_TTL_SECONDS, attemptKey, type Attempt } from './attempt.js';

// `number` refuses Infinity and NaN by itself (what `.finite()` asked of zod 3).
const customValue = z.union([z.string().check(z.maxLength(1024)), z.number(), z.boolean()]);

/** Body of `POST /init-auth`. Unknown fields are ignored, as B2C may send more claims. */
export const initAuthSchema = z.object({
  userId: z
    .string()
    .check(
      z.minLength(1, 'userId is required'),
      z.maxLength(256, 'userId is at most 256 characters'),
      z.regex(/^[^\p{Cc}]+$/u, 'userId has no control characters'),
    ),
  action: actionCodeSchema,
  appId: z.optional(z.string().check(z.maxLength(256))),
  /**
   * The client whose `/oidc/auth` request may use the token; without it, the built-in client. The
   * token is bound to it, so no other client of the tenant (a public app, say) can get the code.
   */
  clientId: z.optional(z.string().check(z.refine(isClientId, 'clientId is not a client id'))),
  scope: z.optional(z.string().check(z.maxLength(1024))),
  custom: z.optional(
    z
      .record(z.string().check(z.minLength(1), z.maxLength(64)), customValue)
      .check(z.refine((o) => Object.keys(o).length <= 50, 'custom has at most 50 data points')),
  ),
  redirectToSettings: z.optional(z.boolean()),
  // B2C's GenerateJson sends whatever the claim holds; an empty string means "no email".
  email: z.optional(
    z.pipe(
      z.pipe(
        z.string().check(z.maxLength(320)),
        z.transform((s: string) => s.trim()),
      ),
      z.union([z.literal(''), z.email('email is not a valid address')]),
    ),
  ),
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
  const fresh = newAttempt(input, clientId, tokenHash, now);
  const result = (idempotencyKey: string): InitAuthResult => ({
    token: `${idempotencyKey}.${secret}`,
    idempotencyKey,
    expiresIn: ATTEMPT_TTL_SECONDS,
  });
  const window = { idempotencyKey: fresh.idempotencyKey, expiresAt: nowSeconds(now) + RETRY_WINDOW_SECONDS };
  const attemptWrite: WriteOp = { put: { key: attemptKey(fresh.idempotencyKey), item: { ...fresh } } };

  // Bounded: each round either finishes or has seen another request change the window.
  for (let round = 0; round < 3; round++) {
    let held: string | undefined;
    try {
      // The usual case, one round trip: claim the retry window (only if no live one exists) and
      // write the attempt, in one transaction, so neither exists without the other.
      await store.transact([
        { put: { key: retryKey(fingerprint), item: window, ifAbsent: true } },
        attemptWrite,
      ]);
      return result(fresh.idempotencyKey);
    } catch (err) {
      if (!(err instanceof ConditionFailedError)) throw err;
      // A retry inside the window: the failed condition hands back the window and the attempt it
      // names (a transaction conflict does not: then it is read).
      held =
        (err.current?.[0] as { idempotencyKey?: string } | undefined)?.idempotencyKey ??
        (await store.get<{ idempotencyKey: string }>(retryKey(fingerprint)))?.idempotencyKey;
    }
    // The window's writer has not committed yet: try again.
    if (!held) continue;
    try {
      // Re-arm the pending attempt with the new token, unless it has already been used.
      await store.update(attemptKey(held), { tokenHash, expiresAt, rearmedAt: now }, { unconsumed: true });
      return result(held);
    } catch (err) {
      if (!(err instanceof ConditionFailedError)) throw err;
    }
    try {
      // The window's attempt has been used: a new flow, and the window names it from now on
      // (only if it still names the used one; otherwise another request moved it first).
      await store.transact([
        { update: { key: retryKey(fingerprint), set: window, match: { idempotencyKey: held } } },
        attemptWrite,
      ]);
      return result(fresh.idempotencyKey);
    } catch (err) {
      if (!(err instanceof ConditionFailedError)) throw err;
    }
  }
  throw new BackendUnavailableError('init-auth: the retry window kept changing under concurrent calls');
}

function newAttempt(
  input: InitAuthInput,
  clientId: string | undefined,
  tokenHash: string,
  now: number,
): Attempt {
  return {
    idempotencyKey: randomUUID(),
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
    expiresAt: nowSeconds(now) + ATTEMPT_TTL_SECONDS,
  };
}

function sortKeys(o: Record<string, unknown>): [string, unknown][] {
  return Object.entries(o).sort(([a], [b]) => a.localeCompare(b));
}
