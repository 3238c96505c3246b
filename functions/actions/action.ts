import * as z from '../zod.js';
import { config as appConfig } from '../config.js';
import { logger } from '../log.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { Outcome, Tenant } from '../tenants/tenant.js';
import { evaluateRules, rulesSchema, type Rule, type RuleErrorHandler, type RuleFacts } from './rules.js';

/** Action codes as Authsignal names them: `signIn`, `manage-settings` and the like. */
export const ACTION_CODE = /^[a-zA-Z0-9_-]{1,64}$/;
export const actionCodeSchema = z
  .string()
  .check(z.regex(ACTION_CODE, 'an action code is 1 to 64 letters, digits, "_" or "-"'));

export const OUTCOMES = ['ALLOW', 'CHALLENGE', 'BLOCK'] as const satisfies readonly Outcome[];

/** The `action_state` claim: what the tokens of a federated challenge flow finally say. */
export type ActionState = 'ALLOW' | 'BLOCK' | 'CHALLENGE_SUCCEEDED' | 'CHALLENGE_FAILED';

export const DEFAULT_MAX_ATTEMPTS = 5;

export interface ActionConfig {
  action: string;
  /** The outcome when no rule matches. */
  defaultOutcome: Outcome;
  /** In priority order: the first whose condition holds decides (see `rules.ts`). */
  rules: Rule[];
  /** A user with no authenticator facing CHALLENGE may enroll a first method. */
  allowEnrollment: boolean;
  /** Failed challenge attempts before CHALLENGE_FAILED. */
  maxAttempts: number;
  updatedAt: string;
}

/** Body of `PUT /v1/actions/{action}`: the whole configuration (omitted fields take their defaults). */
export const putActionSchema = z.object({
  defaultOutcome: z.enum(OUTCOMES, { error: 'defaultOutcome is ALLOW, CHALLENGE or BLOCK' }),
  rules: z._default(rulesSchema, []),
  allowEnrollment: z._default(z.boolean(), true),
  maxAttempts: z._default(
    z
      .number()
      .check(
        z.int('maxAttempts is a whole number'),
        z.gte(1, 'maxAttempts is 1 to 10'),
        z.lte(10, 'maxAttempts is 1 to 10'),
      ),
    DEFAULT_MAX_ATTEMPTS,
  ),
});

/** The largest `PUT /v1/actions/{action}` body: 50 rules of up to 4 KiB conditions, names and descriptions. */
export const PUT_ACTION_MAX_BYTES = 512 * 1024;

const key = (action: string) => ({ pk: 'actions', sk: action });

/** As stored: rules are kept as one JSON string, so conditions keep their exact JSON shape. */
interface StoredAction {
  action: string;
  defaultOutcome: Outcome;
  rulesJson?: string;
  allowEnrollment?: boolean;
  maxAttempts?: number;
  updatedAt: string;
}

function storedRules(action: string, json: string | undefined): Rule[] {
  if (!json) return [];
  try {
    const rules: unknown = JSON.parse(json);
    if (Array.isArray(rules)) return rules as Rule[];
  } catch {
    // fall through
  }
  logger.error('stored rules are unreadable; running the action without them', { action });
  return [];
}

/**
 * Action reads cached per container, like tenants and clients (`TENANT_CACHE_SECONDS`): a change
 * made through another container is seen within that time (the same staleness as the tenant's
 * own default outcome); this container's writes drop its copy at once. Absence is cached too.
 */
const actionCache = new Map<string, { stored: StoredAction | undefined; until: number }>();

export class ActionRepository {
  constructor(
    private readonly store: TenantStore,
    private readonly tenant: Tenant,
    /** How long a warm container reuses an action read; 0 turns it off. */
    private readonly cacheMs = appConfig().tenantCacheSeconds * 1000,
  ) {}

  private async read(action: string): Promise<StoredAction | undefined> {
    const cacheKey = `${this.tenant.id}:${action}`;
    const hit = this.cacheMs > 0 ? actionCache.get(cacheKey) : undefined;
    if (hit && hit.until > Date.now()) return hit.stored;
    const stored = await this.store.get<StoredAction & Record<string, unknown>>(key(action));
    if (this.cacheMs > 0) actionCache.set(cacheKey, { stored, until: Date.now() + this.cacheMs });
    return stored;
  }

  /** The action's configuration, or the tenant default for an action never configured. */
  async get(action: string): Promise<ActionConfig & { configured: boolean }> {
    const stored = await this.read(action);
    if (stored) {
      return {
        action,
        defaultOutcome: stored.defaultOutcome,
        rules: storedRules(action, stored.rulesJson),
        allowEnrollment: stored.allowEnrollment ?? true,
        maxAttempts: stored.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        updatedAt: stored.updatedAt,
        configured: true,
      };
    }
    return {
      action,
      defaultOutcome: this.tenant.defaultOutcome,
      rules: [],
      allowEnrollment: true,
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      updatedAt: this.tenant.createdAt,
      configured: false,
    };
  }

  async put(action: string, input: z.output<typeof putActionSchema>): Promise<ActionConfig> {
    const config: ActionConfig = {
      action,
      defaultOutcome: input.defaultOutcome,
      rules: input.rules,
      allowEnrollment: input.allowEnrollment,
      maxAttempts: input.maxAttempts,
      updatedAt: new Date().toISOString(),
    };
    const item: StoredAction = {
      action,
      defaultOutcome: config.defaultOutcome,
      rulesJson: JSON.stringify(config.rules),
      allowEnrollment: config.allowEnrollment,
      maxAttempts: config.maxAttempts,
      updatedAt: config.updatedAt,
    };
    await this.store.put(key(action), { ...item });
    actionCache.delete(`${this.tenant.id}:${action}`);
    return config;
  }
}

/**
 * What happens when `/oidc/auth` runs an action. `CHALLENGE` for a user with nothing to be
 * challenged with is let through with `is_enrolled=false`, as Authsignal does; the
 * tenant reads that claim and may enroll the user. For an enrolled user `CHALLENGE` needs the hosted
 * challenge, which fails safe: it can end only in CHALLENGE_SUCCEEDED or CHALLENGE_FAILED.
 */
export function decide(outcome: Outcome, isEnrolled: boolean): { state: ActionState } | { challenge: true } {
  if (outcome === 'ALLOW') return { state: 'ALLOW' };
  if (outcome === 'BLOCK') return { state: 'BLOCK' };
  if (!isEnrolled) return { state: 'ALLOW' };
  return { challenge: true };
}

const logRuleError: RuleErrorHandler = (rule, error) => {
  // The rule and the reason only: the facts carry the user's IP address and user agent.
  logger.warn('rule skipped: its condition could not be evaluated', {
    ruleId: rule.id,
    reason: error.message,
  });
};

/**
 * The outcome of an action for these facts: the first matching rule's, else the action's default
 * (or the tenant's, for an action never configured). `decidedBy` goes into the outcome record:
 * `rule:<id>`, `action default` or `tenant default`.
 */
export function decideAction(
  config: Pick<ActionConfig, 'defaultOutcome' | 'rules'> & { configured: boolean },
  facts: RuleFacts,
  onRuleError: RuleErrorHandler = logRuleError,
): { outcome: Outcome; decidedBy: string } {
  const match = evaluateRules(config.rules, facts, onRuleError);
  if (match) return { outcome: match.outcome, decidedBy: `rule:${match.ruleId}` };
  return {
    outcome: config.defaultOutcome,
    decidedBy: config.configured ? 'action default' : 'tenant default',
  };
}
