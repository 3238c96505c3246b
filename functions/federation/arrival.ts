import { ActionRepository, decide, decideAction, type ActionState } from '../actions/action.js';
import { ruleFacts } from '../actions/rules.js';
import { constantTimeEqual, sha256 } from '../crypto/secrets.js';
import type { ActionRun } from '../records/authorization.js';
import { ConditionFailedError, type WriteOp } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { Tenant } from '../tenants/tenant.js';
import { UserRecords } from '../users/user-records.js';
import { attemptKey, boundClient, readAttempt, splitToken, type Attempt } from './attempt.js';

/**
 * The user's arrival at `/oidc/auth` with an init-auth token (the Authsignal-style federated flow):
 * the attempt the token names is loaded, the tenant's action decides what happens, and the token is
 * consumed in the same transaction as whatever the decision writes, so it works once.
 */

/** The token is malformed, unknown, expired or already used. */
export class UnusableTokenError extends Error {
  constructor(message = 'the token is invalid, expired or already used: start again with /init-auth') {
    super(message);
  }
}

const MAX_TOKEN_LENGTH = 200;

export interface ArrivalContext {
  store: TenantStore;
  tenant: Tenant;
  sourceIp: string;
  userAgent: string;
}

/** What the action decided: an outcome at once, or the hosted challenge (or enrollment). */
export type ArrivalDecision =
  | { state: ActionState; isEnrolled: boolean; decidedBy: string }
  | {
      interaction: {
        mode: 'challenge' | 'enroll';
        decidedBy: string;
        maxAttempts: number;
        allowSkip: boolean;
      };
    };

export interface Arrival {
  attempt: Attempt;
  /** The action run, as the outcome record and the hosted pages carry it. */
  run: ActionRun;
  decision: ArrivalDecision;
  /** Consumes the token: commit it with the decision's writes (`commitArrival`). */
  consumeToken: WriteOp;
}

/**
 * Loads the attempt the token names and runs its action; throws UnusableTokenError for a bad token,
 * or one presented by another client than the one it was started for (which leaves it usable).
 */
export async function arrive(token: string, clientId: string, ctx: ArrivalContext): Promise<Arrival> {
  const parts = token.length <= MAX_TOKEN_LENGTH ? splitToken(token) : undefined;
  if (!parts) throw new UnusableTokenError();
  const attempt = await readAttempt(ctx.store, parts.idempotencyKey);
  const tokenHash = sha256(parts.secret);
  if (!attempt || attempt.consumedAt !== undefined || !constantTimeEqual(attempt.tokenHash, tokenHash))
    throw new UnusableTokenError();
  if (boundClient(attempt, ctx.tenant.id) !== clientId)
    throw new UnusableTokenError(
      'the token was not issued for this client: use it with the client it was started for',
    );
  const run: ActionRun = {
    userId: attempt.userId,
    action: attempt.action,
    idempotencyKey: attempt.idempotencyKey,
    custom: attempt.custom,
    ...(attempt.appId ? { appId: attempt.appId } : {}),
    createdAt: attempt.createdAt,
    ipAddress: ctx.sourceIp,
    userAgent: ctx.userAgent.slice(0, 512),
  };
  return {
    attempt,
    run,
    decision: await runAction(attempt, ctx),
    consumeToken: { consume: { key: attemptKey(attempt.idempotencyKey), match: { tokenHash } } },
  };
}

/** One transaction: the token is used up and the decision's writes land, or none of it. */
export async function commitArrival(store: TenantStore, ops: WriteOp[]): Promise<void> {
  try {
    await store.transact(ops);
  } catch (err) {
    // Another request used the token first (or it expired in between).
    if (err instanceof ConditionFailedError) throw new UnusableTokenError();
    throw err;
  }
}

/**
 * Runs the action when the user arrives: the rules (or the default) decide ALLOW, BLOCK or
 * CHALLENGE. CHALLENGE sends an enrolled user to the hosted challenge; a user with nothing to be
 * challenged with may enroll a first method there (unless the action forbids it, in which case they
 * pass with `is_enrolled=false`, as Authsignal does). `redirectToSettings` always goes through the
 * hosted pages, since managing methods needs a passed challenge.
 */
async function runAction(attempt: Attempt, ctx: ArrivalContext): Promise<ArrivalDecision> {
  const actions = new ActionRepository(ctx.store, ctx.tenant);
  const users = new UserRecords(ctx.store);
  const [config, authenticators] = await Promise.all([
    actions.get(attempt.action),
    users.authenticators(attempt.userId),
  ]);
  const isEnrolled = authenticators.length > 0;
  const { outcome, decidedBy } = decideAction(
    config,
    ruleFacts({
      action: attempt.action,
      custom: attempt.custom,
      isEnrolled,
      methods: [...new Set(authenticators.map((a) => a.type))],
      ip: ctx.sourceIp,
      userAgent: ctx.userAgent,
    }),
  );
  if (outcome === 'BLOCK') return { state: 'BLOCK', isEnrolled, decidedBy };
  const wantsSettings = attempt.redirectToSettings;
  const decision = decide(outcome, isEnrolled);
  if ('state' in decision && !wantsSettings) {
    if (outcome === 'CHALLENGE' && !config.allowEnrollment) return { state: 'ALLOW', isEnrolled, decidedBy };
    if (outcome !== 'CHALLENGE') return { state: decision.state, isEnrolled, decidedBy };
  }
  if (!isEnrolled && !config.allowEnrollment) return { state: 'ALLOW', isEnrolled, decidedBy };
  return {
    interaction: {
      mode: isEnrolled ? 'challenge' : 'enroll',
      decidedBy,
      maxAttempts: config.maxAttempts,
      // Authsignal lets a user facing CHALLENGE with nothing enrolled through; so may the user
      // here, unless they came to manage their settings.
      allowSkip: !wantsSettings,
    },
  };
}
