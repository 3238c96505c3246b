/**
 * Upstream accounts and their local users on DynamoDB Local: the link is made once under a race,
 * linking by email is the provider's opt-in and needs a verified address, and the provider's
 * secret is sealed at rest, bound to the tenant and the provider.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalSecretBox } from '../../functions/crypto/local-secret-box.js';
import { SecretBoxError } from '../../functions/crypto/secret-box.js';
import type { DynamoStore } from '../../functions/store/dynamo-store.js';
import { TenantStore } from '../../functions/store/tenant-store.js';
import { linkedUser } from '../../functions/upstream/link.js';
import {
  IdentityProviderRepository,
  putProviderSchema,
  type StoredProvider,
} from '../../functions/upstream/provider.js';
import { ProfileRepository } from '../../functions/users/profile-repository.js';
import * as z from '../../functions/zod.js';
import { freshStore } from '../support/dynamo.js';

let raw: DynamoStore;
let box: LocalSecretBox;
let store: TenantStore;
let repo: IdentityProviderRepository;
let provider: StoredProvider;
let linking: StoredProvider;

const input = (extra: Record<string, unknown> = {}) =>
  z.parse(putProviderSchema, {
    type: 'oidc',
    name: 'Corp',
    issuer: 'https://login.corp.example',
    client_id: 'rp',
    client_secret: 'the-upstream-secret-value',
    ...extra,
  });

beforeAll(async () => {
  raw = await freshStore('upstream-links');
  box = LocalSecretBox.open(mkdtempSync(join(tmpdir(), 'upstream-box-')), 'us');
  store = new TenantStore(raw, `tenant-${randomBytes(4).toString('hex')}`);
  repo = new IdentityProviderRepository(store, box, 'https://acme.us.id.example');
  provider = (await repo.put('corp', input())).provider;
  linking = (await repo.put('linking', input({ linkByEmail: true }))).provider;
});

const sub = () => `s-${randomBytes(6).toString('hex')}`;

describe('upstream links', () => {
  it('30 concurrent first sign-ins of one upstream account make one link and one user', async () => {
    const identity = { sub: sub(), email: `${sub()}@corp.example`, emailVerified: true, name: 'Ada' };
    const results = await Promise.all(
      Array.from({ length: 30 }, () => linkedUser(store, provider, identity)),
    );
    const users = new Set(results.map((r) => r.userId));
    expect(users.size).toBe(1);
    expect(results.filter((r) => r.linked === 'new_user')).toHaveLength(1);
    const profile = await new ProfileRepository(store).get([...users][0]!);
    expect(profile?.email).toBe(identity.email);
  });

  it('the same sub at another provider is another user', async () => {
    const s = sub();
    const a = await linkedUser(store, provider, { sub: s, emailVerified: false });
    const b = await linkedUser(store, linking, { sub: s, emailVerified: false });
    expect(a.userId).not.toBe(b.userId);
  });

  it('links by email only with linkByEmail and email_verified, and never takes a held address', async () => {
    const email = `${sub()}@corp.example`;
    await new ProfileRepository(store).put('local-user', { email, email_verified: true });
    const off = await linkedUser(store, provider, { sub: sub(), email, emailVerified: true });
    expect(off.userId).not.toBe('local-user');
    expect((await new ProfileRepository(store).get(off.userId))?.email).toBeUndefined();
    const unverified = await linkedUser(store, linking, { sub: sub(), email, emailVerified: false });
    expect(unverified.userId).not.toBe('local-user');
    const on = await linkedUser(store, linking, { sub: sub(), email, emailVerified: true });
    expect(on).toEqual({ userId: 'local-user', linked: 'email' });
  });

  it('seals the secret at rest, bound to the tenant and the provider, and never shows it', async () => {
    const item = await raw.get<Record<string, unknown>>({
      pk: `${store.tenantId}#identity-providers`,
      sk: 'idp#corp',
    });
    expect(JSON.stringify(item)).not.toContain('the-upstream-secret-value');
    expect(await repo.openSecret(provider)).toBe('the-upstream-secret-value');
    // Copied to another provider's item, or opened for another tenant: it does not open.
    await expect(repo.openSecret({ ...provider, id: 'linking' })).rejects.toBeInstanceOf(SecretBoxError);
    const elsewhere = new IdentityProviderRepository(new TenantStore(raw, 'other-tenant'), box, 'https://x');
    await expect(elsewhere.openSecret(provider)).rejects.toBeInstanceOf(SecretBoxError);
    expect(JSON.stringify(repo.view(provider))).not.toContain('the-upstream-secret-value');
    expect(repo.view(provider)).not.toHaveProperty('sealedSecret');
  });
});
