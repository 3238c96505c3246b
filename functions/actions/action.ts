import { z } from 'zod';
import type { TenantStore } from '../store/tenant-store.js';
import type { Outcome, Tenant } from '../tenants/tenant.js';

/** Action codes as Authsignal names them: `signIn`, `manage-settings`, … (issue contract). */
export const ACTION_CODE = /^[a-zA-Z0-9_-]{1,64}$/;
export const actionCodeSchema = z.string().regex(ACTION_CODE, 'an action code is 1 to 64 letters, digits, "_" or "-"');

export const OUTCOMES = ['ALLOW', 'CHALLENGE', 'BLOCK'] as const satisfies readonly Outcome[];

/** What the tokens finally say (API.md). */
export type ActionState = 'ALLOW' | 'BLOCK' | 'CHALLENGE_SUCCEEDED' | 'CHALLENGE_FAILED';

export interface ActionConfig {
  action: string;
  defaultOutcome: Outcome;
  updatedAt: string;
}

/** Body of `PUT /v1/actions/{action}`. */
export const putActionSchema = z.object({
  defaultOutcome: z.enum(OUTCOMES),
});

const key = (action: string) => ({ pk: 'actions', sk: action });

export class ActionRepository {
  constructor(
    private readonly store: TenantStore,
    private readonly tenant: Tenant,
  ) {}

  /** The action's configuration, or the tenant default for an action never configured. */
  async get(action: string): Promise<ActionConfig & { configured: boolean }> {
    const stored = await this.store.get<ActionConfig & Record<string, unknown>>(key(action));
    if (stored) return { action, defaultOutcome: stored.defaultOutcome, updatedAt: stored.updatedAt, configured: true };
    return { action, defaultOutcome: this.tenant.defaultOutcome, updatedAt: this.tenant.createdAt, configured: false };
  }

  async put(action: string, input: z.output<typeof putActionSchema>): Promise<ActionConfig> {
    const config: ActionConfig = { action, defaultOutcome: input.defaultOutcome, updatedAt: new Date().toISOString() };
    await this.store.put(key(action), { ...config });
    return config;
  }
}

/**
 * What happens when `/oidc/auth` runs an action. `CHALLENGE` for a user with nothing to be
 * challenged with is let through with `is_enrolled=false`, as the reference product does; the
 * tenant reads that claim and may enroll the user. For an enrolled user `CHALLENGE` needs the hosted
 * challenge, which fails safe: it can end only in CHALLENGE_SUCCEEDED or CHALLENGE_FAILED.
 */
export function decide(outcome: Outcome, isEnrolled: boolean): { state: ActionState } | { challenge: true } {
  if (outcome === 'ALLOW') return { state: 'ALLOW' };
  if (outcome === 'BLOCK') return { state: 'BLOCK' };
  if (!isEnrolled) return { state: 'ALLOW' };
  return { challenge: true };
}
