import type { TenantStore } from '../store/tenant-store.js';
import type { ActionState } from '../actions/action.js';
import { profileKey, profileView, type ProfileItem } from './profile.js';

/**
 * Everything about one user of a tenant lives in one partition, `<tenantId>#user#<userId>`:
 * authenticators (`authn#<id>`), action outcome records (`action#<action>#<idempotencyKey>`) and
 * the profile (`profile`, see profile.ts).
 */
export const userPk = (userId: string) => `user#${userId}`;

export type AuthenticatorType = 'PASSKEY' | 'AUTHENTICATOR_APP' | 'EMAIL_OTP' | 'SMS';

export interface AuthenticatorSummary {
  id: string;
  type: AuthenticatorType;
  name?: string;
  createdAt: string;
  lastUsedAt?: string;
}

export interface OutcomeRecord {
  userId: string;
  action: string;
  idempotencyKey: string;
  state: ActionState;
  isEnrolled: boolean;
  createdAt: string;
  stateUpdatedAt: string;
  custom: Record<string, string | number | boolean>;
  appId?: string;
  /** Which rule decided, when one did; otherwise the action's default or the tenant default. */
  decidedBy: string;
  verificationMethod?: AuthenticatorType;
  ipAddress?: string;
  userAgent?: string;
}

export const outcomeKey = (userId: string, action: string, idempotencyKey: string) => ({
  pk: userPk(userId),
  sk: `action#${action}#${idempotencyKey}`,
});

export class UserRecords {
  constructor(private readonly store: TenantStore) {}

  async authenticators(userId: string): Promise<AuthenticatorSummary[]> {
    const items = await this.store.query<AuthenticatorSummary & Record<string, unknown>>(
      userPk(userId),
      'authn#',
    );
    return items.map((a) => ({
      id: a.id,
      type: a.type,
      ...(a.name ? { name: a.name } : {}),
      createdAt: a.createdAt,
      ...(a.lastUsedAt ? { lastUsedAt: a.lastUsedAt } : {}),
    }));
  }

  async outcome(userId: string, action: string, idempotencyKey: string): Promise<OutcomeRecord | undefined> {
    return this.store.get<OutcomeRecord & Record<string, unknown>>(
      outcomeKey(userId, action, idempotencyKey),
    );
  }

  /** The user view shared by `GET /v1/users/{userId}` and `POST /get-user`; `profile` when there is one. */
  async view(userId: string) {
    const [authenticators, profile] = await Promise.all([
      this.authenticators(userId),
      this.store.get<ProfileItem & Record<string, unknown>>(profileKey(userId)),
    ]);
    return {
      userId,
      isEnrolled: authenticators.length > 0,
      enrolledVerificationMethods: [...new Set(authenticators.map((a) => a.type))],
      authenticators,
      ...(profile ? { profile: profileView(profile) } : {}),
    };
  }
}
