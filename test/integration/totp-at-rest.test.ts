import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticatorService } from '../../functions/authenticators/service.js';
import { newTotpSecretBase32, totpCode } from '../../functions/authenticators/totp.js';
import type { AuthenticatorService } from '../../functions/authenticators/types.js';
import { LocalSecretBox } from '../../functions/crypto/local-secret-box.js';
import { LocalOutbox } from '../../functions/mail/local-outbox.js';
import type { DynamoStore } from '../../functions/store/dynamo-store.js';
import { TenantStore } from '../../functions/store/tenant-store.js';
import { freshStore } from '../support/dynamo.js';

let raw: DynamoStore;
let tenantId: string;
let box: LocalSecretBox;
let clock: number;
let svc: AuthenticatorService;

const service = (id: string) =>
  createAuthenticatorService(new TenantStore(raw, id), {
    mailer: new LocalOutbox({ print: () => {} }),
    secretBox: box,
    rpId: 'demo.us.localhost',
    rpName: 'Demo Corp',
    origin: 'http://demo.us.localhost:3000',
    now: () => clock,
  });

beforeAll(async () => {
  raw = await freshStore('totp-rest');
  tenantId = `tenant-${randomBytes(4).toString('hex')}`;
  box = LocalSecretBox.open(mkdtempSync(join(tmpdir(), 'totp-box-')), 'us');
  clock = Math.floor(Date.now() / 30_000) * 30_000 + 15_000;
  svc = service(tenantId);
});

const user = () => `user-${randomUUID()}`;
/** The authenticator's item exactly as DynamoDB holds it (no tenant view, no service). */
const rawItem = (userId: string, id: string) =>
  raw.get<{ totp: { secret: string; lastStep: number } }>({
    pk: `${tenantId}#user#${userId}`,
    sk: `authn#${id}`,
  });

describe('TOTP secrets at rest', () => {
  it('are sealed in the item, bound to the tenant and user, and still verify codes', async () => {
    const u = user();
    const { authenticator, secret } = await svc.createTotp(u, 'jane@example.com');
    const item = await rawItem(u, authenticator.id);
    expect(item!.totp.secret).toMatch(/^loc1:/);
    expect(JSON.stringify(item)).not.toContain(secret);
    expect(await box.open(item!.totp.secret, { tenantId, userId: u, purpose: 'totp' })).toBe(secret);
    const code = totpCode(secret, clock);
    expect(await svc.verifyTotp(u, code)).toEqual({ ok: true, authenticatorId: authenticator.id });
    expect(await svc.verifyTotp(u, code)).toEqual({ ok: false, reason: 'used' });
    // The listed record (never shown: toView drops it) holds the sealed form too.
    expect((await svc.list(u))[0]!.totp!.secret).toBe(item!.totp.secret);
  });

  it('two-step enrollment keeps only the sealed secret, pending and enrolled', async () => {
    const u = user();
    const { secret, sealed } = await svc.newTotpSecret(u, 'jane@example.com');
    expect(sealed).toMatch(/^loc1:/);
    expect(sealed).not.toContain(secret);
    const code = totpCode(secret, clock);
    const record = await svc.confirmTotp(u, sealed, code);
    expect(record).toBeDefined();
    expect((await rawItem(u, record!.id))!.totp.secret).toBe(sealed);
    // A double submit enrols nothing new; the confirming code is spent.
    expect(await svc.confirmTotp(u, sealed, totpCode(secret, clock + 30_000))).toBeUndefined();
    expect(await svc.verifyTotp(u, code)).toEqual({ ok: false, reason: 'used' });
    expect(await svc.verifyTotp(u, totpCode(secret, clock + 30_000))).toEqual({
      ok: true,
      authenticatorId: record!.id,
    });
    // Another user's pending secret does not open for this one: nothing is enrolled (and no 500).
    const other = await svc.newTotpSecret(user(), 'x');
    expect(await svc.confirmTotp(u, other.sealed, totpCode(other.secret, clock))).toBeUndefined();
  });

  it('a sealed secret copied to another user or tenant does not open there', async () => {
    const victim = user();
    const { authenticator, secret } = await svc.createTotp(victim, 'v');
    const sealed = (await rawItem(victim, authenticator.id))!.totp.secret;
    const attacker = user();
    const copy = { ...authenticator, totp: { secret: sealed, lastStep: 0 } };
    await raw.put({ pk: `${tenantId}#user#${attacker}`, sk: `authn#${authenticator.id}` }, copy);
    // It verifies nothing there: a wrong code to the user, never a 500.
    expect(await svc.verifyTotp(attacker, totpCode(secret, clock))).toEqual({
      ok: false,
      reason: 'invalid_code',
    });
    const otherTenant = `tenant-${randomBytes(4).toString('hex')}`;
    await raw.put({ pk: `${otherTenant}#user#${victim}`, sk: `authn#${authenticator.id}` }, copy);
    expect(await service(otherTenant).verifyTotp(victim, totpCode(secret, clock))).toEqual({
      ok: false,
      reason: 'invalid_code',
    });
  });

  it('a clear-text secret written before sealing existed still verifies, with replay protection', async () => {
    const u = user();
    const secret = newTotpSecretBase32();
    const id = randomUUID();
    await raw.put(
      { pk: `${tenantId}#user#${u}`, sk: `authn#${id}` },
      {
        id,
        type: 'AUTHENTICATOR_APP',
        name: 'Authenticator app',
        createdAt: new Date(clock).toISOString(),
        totp: { secret, lastStep: 0 },
      },
    );
    const code = totpCode(secret, clock);
    expect(await svc.verifyTotp(u, code)).toEqual({ ok: true, authenticatorId: id });
    expect(await svc.verifyTotp(u, code)).toEqual({ ok: false, reason: 'used' });
    // So does a clear pending secret of an interaction begun before the change.
    const v = user();
    const pending = newTotpSecretBase32();
    const record = await svc.confirmTotp(v, pending, totpCode(pending, clock));
    expect((await rawItem(v, record!.id))!.totp.secret).toMatch(/^loc1:/);
  });
});
