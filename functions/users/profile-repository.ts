import { revokeUser } from '../oidc/revocations.js';
import { endUserSessions, type EndedSession } from '../sessions/session.js';
import { ConditionFailedError, nowSeconds, type Item, type Key, type WriteOp } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import {
  loginIdentifiers,
  loginKey,
  normaliseLogin,
  profileKey,
  profileView,
  type LoginKind,
  type Profile,
  type ProfileInput,
  type ProfileItem,
} from './profile.js';
import { userPk } from './user-records.js';

/** A login identifier (email or username) already belongs to another user. */
export class LoginTakenError extends Error {
  constructor(
    readonly kind: LoginKind,
    readonly value: string,
  ) {
    super(`the ${kind} "${value}" is already used by another user`);
    this.name = 'LoginTakenError';
  }
}

/** The profile changed between our read and our write: nothing was written, try again. */
export class ProfileConflictError extends Error {
  constructor() {
    super('the profile was changed by another request at the same time: try again');
    this.name = 'ProfileConflictError';
  }
}

interface LoginItem extends Item {
  userId: string;
}

/**
 * A revision marker: a replacement of revision n writes `profile#rev#<n+1>` if absent in the same
 * transaction, so of two concurrent replacements of one profile only one can win, and the login
 * index never points at an identifier the winning profile does not hold.
 */
const revisionKey = (userId: string, version: number): Key => ({
  pk: userPk(userId),
  sk: `profile#rev#${version}`,
});
const REVISION_MARKER_SECONDS = 86_400;

/** Profiles and their login index (`login#email#<email>`, `login#username#<username>`: one user each). */
export class ProfileRepository {
  constructor(private readonly store: TenantStore) {}

  async get(userId: string): Promise<Profile | undefined> {
    return (await this.read(userId))?.profile;
  }

  /** The profile and its revision (for a read-modify-write with `put(..., { ifVersion })`). */
  async read(userId: string): Promise<{ profile: Profile; version: number } | undefined> {
    const item = await this.store.get<ProfileItem & Record<string, unknown>>(profileKey(userId));
    return item ? { profile: profileView(item), version: item.version ?? 0 } : undefined;
  }

  /**
   * Creates or replaces a profile; its login identifiers move with it in the same transaction
   * (new index items put if absent, old ones deleted), and `with`, the caller's own writes.
   * `LoginTakenError` when another user holds one, `ProfileConflictError` when a concurrent write
   * won (or, with `ifVersion`, already had).
   */
  async put(
    userId: string,
    input: ProfileInput,
    opts: { ifVersion?: number; now?: number; with?: WriteOp[] } = {},
  ): Promise<{ profile: Profile; created: boolean }> {
    const now = opts.now ?? Date.now();
    const current = await this.store.get<ProfileItem & Record<string, unknown>>(profileKey(userId));
    if (opts.ifVersion !== undefined && (current?.version ?? 0) !== opts.ifVersion)
      throw new ProfileConflictError();
    const iso = new Date(now).toISOString();
    const item: ProfileItem = {
      ...input,
      created_at: current?.created_at ?? iso,
      updated_at: iso,
      version: (current?.version ?? 0) + 1,
    };
    const before = loginIdentifiers(current);
    const after = loginIdentifiers(input);
    const same = (a: { kind: LoginKind; value: string }) => (b: { kind: LoginKind; value: string }) =>
      a.kind === b.kind && a.value === b.value;
    const added = after.filter((id) => !before.some(same(id)));
    const removed = before.filter((id) => !after.some(same(id)));

    for (const id of added) await this.claimable(userId, id.kind, id.value);

    const ops: WriteOp[] = [
      current
        ? {
            put: {
              key: revisionKey(userId, item.version),
              item: { expiresAt: nowSeconds(now) + REVISION_MARKER_SECONDS },
              ifAbsent: true,
            },
          }
        : { put: { key: profileKey(userId), item: { ...item }, ifAbsent: true } },
      ...(current ? [{ put: { key: profileKey(userId), item: { ...item } } }] : []),
      ...added.map((id): WriteOp => ({
        put: { key: loginKey(id.kind, id.value), item: { userId, kind: id.kind }, ifAbsent: true },
      })),
      ...removed.map((id): WriteOp => ({ delete: { key: loginKey(id.kind, id.value) } })),
      // Written with the profile or not at all (a self sign-up's first method).
      ...(opts.with ?? []),
    ];
    try {
      await this.store.transact(ops);
    } catch (err) {
      if (!(err instanceof ConditionFailedError)) throw err;
      for (const id of added) {
        const owner = await this.store.get<LoginItem>(loginKey(id.kind, id.value));
        if (owner && owner.userId !== userId) throw new LoginTakenError(id.kind, id.value);
      }
      throw new ProfileConflictError();
    }
    return { profile: profileView(item), created: !current };
  }

  /**
   * Throws `LoginTakenError` if another user's profile really holds the identifier. An index item
   * whose user no longer holds it (left by an interrupted change) is removed so it can be claimed.
   */
  private async claimable(userId: string, kind: LoginKind, value: string): Promise<void> {
    const owner = await this.store.get<LoginItem>(loginKey(kind, value));
    if (!owner) return;
    if (owner.userId !== userId) {
      const profile = await this.get(owner.userId);
      if (loginIdentifiers(profile).some((id) => id.kind === kind && id.value === value))
        throw new LoginTakenError(kind, value);
    }
    await this.store.delete(loginKey(kind, value));
  }
}

/**
 * The user a login page is looking for: `identifier` is an email (it has an `@`) or a username,
 * matched case-insensitively. The index item is checked against the profile it points to, so a
 * stale index item never logs anyone in as someone else.
 */
export async function findUserByLogin(
  store: TenantStore,
  identifier: string,
): Promise<{ userId: string; profile: Profile } | undefined> {
  const value = normaliseLogin(identifier);
  if (!value || value.length > 254) return undefined;
  const kind: LoginKind = value.includes('@') ? 'email' : 'username';
  const owner = await store.get<LoginItem>(loginKey(kind, value));
  if (!owner) return undefined;
  const profile = await new ProfileRepository(store).get(owner.userId);
  if (!loginIdentifiers(profile).some((id) => id.kind === kind && id.value === value)) return undefined;
  return { userId: owner.userId, profile: profile! };
}

/**
 * Deletes everything about a user: login index items, authenticators (through `removeAuthenticator`
 * when given, so their own index items go too), action outcome records, the profile — every item of
 * the user's partition — ends all their sessions, and revokes every token and code issued for them
 * so far. Idempotent. Returns the sessions it ended, for back-channel logout.
 */
export async function deleteUser(
  store: TenantStore,
  userId: string,
  removeAuthenticator?: (authenticatorId: string) => Promise<unknown>,
  now = Date.now(),
): Promise<{ deleted: number; endedSessions: EndedSession[] }> {
  const items = await store.query<Item & { sk: string; id?: string }>(userPk(userId));
  const profile = items.find((i) => i.sk === 'profile') as (ProfileItem & { sk: string }) | undefined;
  // Tokens, codes and sessions first: whatever fails later, nothing issued for the user works any more.
  await revokeUser(store, userId, now);
  const endedSessions = await endUserSessions(store, userId);
  for (const id of loginIdentifiers(profile)) {
    const owner = await store.get<LoginItem>(loginKey(id.kind, id.value));
    if (owner?.userId === userId) await store.delete(loginKey(id.kind, id.value));
  }
  const authenticators = items.filter((i) => i.sk.startsWith('authn#'));
  for (const a of authenticators) {
    const id = a.sk.slice('authn#'.length);
    if (removeAuthenticator) await removeAuthenticator(id);
    else await store.delete({ pk: userPk(userId), sk: a.sk });
  }
  // The profile last, so an interrupted delete can be retried and still find the login identifiers.
  const rest = items.filter((i) => !i.sk.startsWith('authn#') && i.sk !== 'profile');
  for (let i = 0; i < rest.length; i += 25) {
    await Promise.all(rest.slice(i, i + 25).map((it) => store.delete({ pk: userPk(userId), sk: it.sk })));
  }
  if (profile) await store.delete(profileKey(userId));
  return { deleted: items.length, endedSessions };
}
