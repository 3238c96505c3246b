import { ConditionFailedError, type Key } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { userPk } from '../users/user-records.js';
import type { AuthenticatorRecord } from './types.js';

/*
 * Where a user's authenticators live (the tenant prefix is added by the TenantStore): each one in
 * the user's partition, so listing them is one query. A passkey also has an index item from its
 * credential id to its owner, since one credential id belongs to one user of a tenant (WebAuthn
 * §7.1 step 22), and a verified SMS number one from the number to its owner; each is written and
 * removed in the same transaction as its authenticator.
 */
export const authenticatorKey = (userId: string, id: string): Key => ({
  pk: userPk(userId),
  sk: `authn#${id}`,
});
export const credentialKey = (credentialId: string): Key => ({
  pk: `passkey#${credentialId}`,
  sk: 'credential',
});
/**
 * A verified SMS number's owner (E.164): one user per number in a tenant, so a CIBA `login_hint`
 * can name the user by it (sms-code.ts).
 */
export const phoneKey = (e164: string): Key => ({ pk: `phone#${e164}`, sk: 'sms' });

export interface PhoneOwner {
  userId: string;
  authenticatorId: string;
  [k: string]: unknown;
}

/** The user whose verified SMS authenticator holds this E.164 number, if any. */
export async function findUserByPhone(store: TenantStore, e164: string): Promise<string | undefined> {
  return (await store.get<PhoneOwner>(phoneKey(e164)))?.userId;
}

type Stored = AuthenticatorRecord & { sk?: string; [k: string]: unknown };

/** The service's clock: epoch milliseconds, so tests can move time. */
export interface Clock {
  now(): number;
  iso(): string;
  seconds(): number;
}

export function clockOf(now: () => number = Date.now): Clock {
  return {
    now,
    iso: () => new Date(now()).toISOString(),
    seconds: () => Math.floor(now() / 1000),
  };
}

/** A user's authenticator records, read and written in their partition. */
export class AuthenticatorRepository {
  constructor(
    private readonly store: TenantStore,
    private readonly clock: Clock,
  ) {}

  async list(userId: string): Promise<AuthenticatorRecord[]> {
    const items = await this.store.query<Stored>(userPk(userId), 'authn#');
    return items
      .map(({ sk: _sk, ...rest }) => rest as AuthenticatorRecord)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async ofType(userId: string, type: AuthenticatorRecord['type']): Promise<AuthenticatorRecord[]> {
    return (await this.list(userId)).filter((a) => a.type === type);
  }

  async save(userId: string, record: AuthenticatorRecord): Promise<AuthenticatorRecord> {
    await this.store.put(authenticatorKey(userId, record.id), { ...record }, { ifAbsent: true });
    return record;
  }

  /** Records a use; an authenticator removed in the meantime does not undo the verification. */
  async touch(userId: string, id: string): Promise<void> {
    try {
      await this.store.update(authenticatorKey(userId, id), { lastUsedAt: this.clock.iso() });
    } catch (err) {
      if (!(err instanceof ConditionFailedError)) throw err;
    }
  }

  async remove(userId: string, authenticatorId: string): Promise<boolean> {
    const key = authenticatorKey(userId, authenticatorId);
    const existing = await this.store.get<Stored>(key);
    if (!existing) return false;
    try {
      await this.store.transact([
        { delete: { key, ifPresent: true } },
        ...(existing.passkey ? [{ delete: { key: credentialKey(existing.passkey.credentialId) } }] : []),
        ...(existing.sms ? [{ delete: { key: phoneKey(existing.sms.phoneNumber) } }] : []),
      ]);
      return true;
    } catch (err) {
      if (err instanceof ConditionFailedError) return false;
      throw err;
    }
  }
}
