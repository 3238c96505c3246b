import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EMAIL_CODE_MAX_ATTEMPTS, EMAIL_SEND_LIMITS } from '../../functions/authenticators/email-code.js';
import { withPasskeys } from '../../functions/authenticators/passkey.js';
import { createAuthenticatorService } from '../../functions/authenticators/service.js';
import { totpCode } from '../../functions/authenticators/totp.js';
import type { AuthenticatorService } from '../../functions/authenticators/types.js';
import { LocalSecretBox } from '../../functions/crypto/local-secret-box.js';
import { LocalOutbox } from '../../functions/mail/local-outbox.js';
import { ConditionFailedError, nowSeconds } from '../../functions/store/store.js';
import { TenantStore } from '../../functions/store/tenant-store.js';
import { UserRecords } from '../../functions/users/user-records.js';
import { freshStore } from '../support/dynamo.js';
import { SoftPasskey } from '../support/soft-passkey.js';

const RP_ID = 'demo.us.localhost';
const ORIGIN = 'http://demo.us.localhost:3000';

let store: TenantStore;
let outbox: LocalOutbox;
/** The service's clock (epoch ms): the middle of a 30-second TOTP step, near real time (TTL checks use real time). */
let clock: number;
let svc: AuthenticatorService;

beforeAll(async () => {
  store = new TenantStore(await freshStore('authn'), `tenant-${randomBytes(4).toString('hex')}`);
  outbox = new LocalOutbox({ print: () => {} });
  clock = Math.floor(Date.now() / 30_000) * 30_000 + 15_000;
  svc = createAuthenticatorService(
    store,
    {
      mailer: outbox,
      secretBox: LocalSecretBox.open(mkdtempSync(join(tmpdir(), 'authn-box-')), 'us'),
      rpId: RP_ID,
      rpName: 'Demo Corp',
      origin: ORIGIN,
      now: () => clock,
    },
    withPasskeys,
  );
});

const user = () => `user-${randomUUID()}`;
const key = () => `interaction-${randomUUID()}`;
const ip = () => `203.0.113.${Math.floor(Math.random() * 250)}-${randomUUID()}`;

/** The 6-digit code in the latest mail to an address. */
function codeFor(address: string): string {
  const mail = outbox.latest(address);
  expect(mail, `a mail to ${address}`).toBeDefined();
  const m = /\b(\d{6})\b/.exec(mail!.text);
  expect(m).toBeTruthy();
  return m![1]!;
}

const otherCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe('store.increment (the atomic counter the limits rely on)', () => {
  const k = () => ({ pk: `counter#${randomUUID()}`, sk: 'c' });

  it('creates, counts and stops at the limit', async () => {
    const ck = k();
    const exp = nowSeconds() + 60;
    for (let i = 1; i <= 3; i++) {
      const item = await store.increment<{ count: number; expiresAt: number }>(ck, 'count', {
        below: 3,
        create: { expiresAt: exp },
      });
      expect(item.count).toBe(i);
      expect(item.expiresAt).toBe(exp);
    }
    await expect(
      store.increment(ck, 'count', { below: 3, create: { expiresAt: exp } }),
    ).rejects.toBeInstanceOf(ConditionFailedError);
    expect(await store.get(ck)).toMatchObject({ count: 3 });
  });

  it('lets exactly `below` of many concurrent callers through', async () => {
    const ck = k();
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () => store.increment(ck, 'n', { below: 4, create: {} })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConditionFailedError);
    expect(await store.get(ck)).toMatchObject({ n: 4 });
  });

  it('replaces an expired leftover with a fresh counter', async () => {
    const ck = k();
    await store.put(ck, { count: 9, expiresAt: nowSeconds() - 10 });
    const item = await store.increment<{ count: number; expiresAt: number }>(ck, 'count', {
      below: 5,
      create: { expiresAt: nowSeconds() + 60 },
    });
    expect(item.count).toBe(1);
    expect(item.expiresAt).toBeGreaterThan(nowSeconds());
  });

  it('without create needs a live item; honours unconsumed; counts nested paths', async () => {
    const ck = k();
    await expect(store.increment(ck, 'n')).rejects.toBeInstanceOf(ConditionFailedError);
    await store.put(ck, { m: { step: 5 } });
    expect(await store.increment(ck, ['m', 'step'], { by: 3, below: 6 })).toMatchObject({ m: { step: 8 } });
    await expect(store.increment(ck, ['m', 'step'], { by: 1, below: 6 })).rejects.toBeInstanceOf(
      ConditionFailedError,
    );
    await store.consume(ck);
    await expect(store.increment(ck, 'n', { unconsumed: true })).rejects.toBeInstanceOf(ConditionFailedError);
  });
});

describe('authenticator apps (TOTP)', () => {
  it('a correct code passes once; the same code again fails; a wrong code fails', async () => {
    const u = user();
    const { authenticator, secret, uri } = await svc.createTotp(u, 'jane@example.com');
    expect(authenticator.type).toBe('AUTHENTICATOR_APP');
    expect(uri).toContain(`secret=${secret}`);
    const code = totpCode(secret, clock);
    expect(await svc.verifyTotp(u, code)).toEqual({ ok: true, authenticatorId: authenticator.id });
    expect(await svc.verifyTotp(u, code)).toEqual({ ok: false, reason: 'used' });
    expect(await svc.verifyTotp(u, otherCode(totpCode(secret, clock + 30_000)))).toMatchObject({ ok: false });
    expect(await svc.verifyTotp(u, '12ab56')).toEqual({ ok: false, reason: 'invalid_code' });
    const [stored] = await svc.list(u);
    expect(stored!.lastUsedAt).toBe(new Date(clock).toISOString());
  });

  it('accepts the previous step’s code (window), then never an older one than the last used', async () => {
    const u = user();
    const { authenticator, secret } = await svc.createTotp(u, 'u');
    const previous = totpCode(secret, clock - 30_000);
    const current = totpCode(secret, clock);
    expect(await svc.verifyTotp(u, previous)).toEqual({ ok: true, authenticatorId: authenticator.id });
    expect(await svc.verifyTotp(u, current)).toEqual({ ok: true, authenticatorId: authenticator.id });
    expect(await svc.verifyTotp(u, previous)).toEqual({ ok: false, reason: 'used' });
    expect(await svc.verifyTotp(u, totpCode(secret, clock - 60_000))).toMatchObject({ ok: false });
  });

  it('of 10 concurrent uses of one code exactly one passes', async () => {
    const u = user();
    const { secret } = await svc.createTotp(u, 'u');
    const code = totpCode(secret, clock);
    const results = await Promise.all(Array.from({ length: 10 }, () => svc.verifyTotp(u, code)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    // The others lost to the replay check, or were refused by the user's guess limit before
    // comparing (a burst of one user's guesses is counted one by one: guess-limits.ts).
    expect(results.every((r) => r.ok || r.reason === 'used' || r.reason === 'locked')).toBe(true);
  });

  it('enrols in two steps: a secret shown as QR code, confirmed by a code that is then spent', async () => {
    const u = user();
    const { secret, uri, qrSvg } = await svc.newTotpSecret(u, 'jane@example.com');
    expect(uri).toMatch(/^otpauth:\/\/totp\/Demo%20Corp:jane%40example\.com\?/);
    expect(qrSvg).toContain('<svg');
    expect(await svc.list(u)).toEqual([]);
    expect(await svc.confirmTotp(u, secret, otherCode(totpCode(secret, clock + 30_000)))).toBeUndefined();
    const code = totpCode(secret, clock);
    const record = await svc.confirmTotp(u, secret, code);
    expect(record).toMatchObject({ type: 'AUTHENTICATOR_APP', name: 'Authenticator app' });
    expect(await svc.verifyTotp(u, code)).toEqual({ ok: false, reason: 'used' });
    expect(await svc.confirmTotp(u, secret, totpCode(secret, clock + 30_000))).toBeUndefined();
    expect(await svc.list(u)).toHaveLength(1);
    expect(await svc.verifyTotp(user(), code)).toEqual({ ok: false, reason: 'not_enrolled' });
  });
});

describe('emailed codes', () => {
  it('sends a code that is stored only as a hash and works once', async () => {
    const u = user();
    await svc.enrollEmail(u, 'Jane.Doe@Example.COM');
    const k = key();
    const sent = await svc.sendEmailCode(u, { key: k, ip: ip(), tenantName: 'Demo Corp' });
    expect(sent).toEqual({ sent: true, to: 'J•••@example.com' });
    const mail = outbox.latest('Jane.Doe@example.com')!;
    expect(mail.subject).toContain('Demo Corp');
    expect(mail.subject).toContain('10 minutes');
    const code = codeFor('Jane.Doe@example.com');

    const raw = await store.get<Record<string, unknown>>({ pk: `email-code#${k}`, sk: 'code' });
    expect(raw).toBeDefined();
    expect(JSON.stringify(raw)).not.toContain(code);
    expect(raw!.codeHash).toBe(createHash('sha256').update(`${k}:${code}`).digest('base64url'));
    expect(raw!.expiresAt).toBe(Math.floor(clock / 1000) + 600);

    const ok = await svc.verifyEmailCode(u, { key: k, code });
    expect(ok.ok).toBe(true);
    expect(await svc.verifyEmailCode(u, { key: k, code })).toEqual({ ok: false, reason: 'used' });
  });

  it('five wrong codes kill it: then even the right code fails', async () => {
    const u = user();
    await svc.enrollEmail(u, `five-${randomUUID()}@example.com`);
    const k = key();
    const sent = await svc.sendEmailCode(u, { key: k, ip: ip(), tenantName: 'Demo' });
    const [address] = (await svc.list(u)).map((a) => a.email!.address);
    expect(sent.sent).toBe(true);
    const code = codeFor(address!);
    for (let i = 0; i < EMAIL_CODE_MAX_ATTEMPTS; i++) {
      expect(await svc.verifyEmailCode(u, { key: k, code: otherCode(code) })).toEqual({
        ok: false,
        reason: 'invalid_code',
      });
    }
    expect(await svc.verifyEmailCode(u, { key: k, code })).toEqual({
      ok: false,
      reason: 'too_many_attempts',
    });
  });

  it('four wrong codes, then the right one still works', async () => {
    const u = user();
    const address = `four-${randomUUID()}@example.com`;
    await svc.enrollEmail(u, address);
    const k = key();
    await svc.sendEmailCode(u, { key: k, ip: ip(), tenantName: 'Demo' });
    const code = codeFor(address);
    for (let i = 0; i < EMAIL_CODE_MAX_ATTEMPTS - 1; i++) {
      expect((await svc.verifyEmailCode(u, { key: k, code: otherCode(code) })).ok).toBe(false);
    }
    expect((await svc.verifyEmailCode(u, { key: k, code })).ok).toBe(true);
  });

  it('a code is bound to its key and its user', async () => {
    const u = user();
    const address = `bound-${randomUUID()}@example.com`;
    await svc.enrollEmail(u, address);
    const k = key();
    await svc.sendEmailCode(u, { key: k, ip: ip(), tenantName: 'Demo' });
    const code = codeFor(address);
    expect(await svc.verifyEmailCode(u, { key: key(), code })).toEqual({ ok: false, reason: 'expired' });
    expect(await svc.verifyEmailCode(user(), { key: k, code })).toEqual({
      ok: false,
      reason: 'invalid_code',
    });
    expect((await svc.verifyEmailCode(u, { key: k, code })).ok).toBe(true);
  });

  it('of 10 concurrent verifications of one code exactly one passes', async () => {
    const u = user();
    const address = `race-${randomUUID()}@example.com`;
    await svc.enrollEmail(u, address);
    const k = key();
    await svc.sendEmailCode(u, { key: k, ip: ip(), tenantName: 'Demo' });
    const code = codeFor(address);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => svc.verifyEmailCode(u, { key: k, code })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it('limits sends per user (5 per 15 minutes)', async () => {
    const u = user();
    await svc.enrollEmail(u, `limit-${randomUUID()}@example.com`);
    for (let i = 0; i < EMAIL_SEND_LIMITS.perUser.max; i++) {
      expect((await svc.sendEmailCode(u, { key: key(), ip: ip(), tenantName: 'Demo' })).sent).toBe(true);
    }
    const refused = await svc.sendEmailCode(u, { key: key(), ip: ip(), tenantName: 'Demo' });
    expect(refused).toMatchObject({ sent: false, reason: 'rate_limited' });
    expect(refused.retryAfter).toBeGreaterThan(0);
    expect(refused.retryAfter).toBeLessThanOrEqual(EMAIL_SEND_LIMITS.perUser.windowSeconds);
    // Another user is not affected.
    const other = user();
    await svc.enrollEmail(other, `other-${randomUUID()}@example.com`);
    expect((await svc.sendEmailCode(other, { key: key(), ip: ip(), tenantName: 'Demo' })).sent).toBe(true);
  });

  it('limits sends per IP address (20 per hour)', async () => {
    const from = ip();
    for (let i = 0; i < EMAIL_SEND_LIMITS.perIp.max; i++) {
      const u = user();
      await svc.enrollEmail(u, `ip${i}-${randomUUID()}@example.com`);
      expect((await svc.sendEmailCode(u, { key: key(), ip: from, tenantName: 'Demo' })).sent).toBe(true);
    }
    const u = user();
    await svc.enrollEmail(u, `ip-last-${randomUUID()}@example.com`);
    const refused = await svc.sendEmailCode(u, { key: key(), ip: from, tenantName: 'Demo' });
    expect(refused).toMatchObject({ sent: false, reason: 'rate_limited' });
    expect(refused.retryAfter).toBeLessThanOrEqual(EMAIL_SEND_LIMITS.perIp.windowSeconds);
  });

  it('enrols a new address when its code is verified with enroll, in the user’s language', async () => {
    const u = user();
    expect(await svc.sendEmailCode(u, { key: key(), ip: ip(), tenantName: 'Demo' })).toEqual({
      sent: false,
      to: '',
      reason: 'no_address',
    });
    const address = `new-${randomUUID()}@example.com`;
    const k = key();
    await svc.sendEmailCode(u, { key: k, ip: ip(), to: address, locale: 'es-ES', tenantName: 'Demo' });
    expect(outbox.latest(address)!.subject).toBe('Tu código de verificación de Demo (caduca en 10 minutos)');
    const code = codeFor(address);
    // Without enroll, an address the user does not have proves nothing.
    const k2 = key();
    await svc.sendEmailCode(u, { key: k2, ip: ip(), to: address, tenantName: 'Demo' });
    expect(await svc.verifyEmailCode(u, { key: k2, code: codeFor(address) })).toEqual({
      ok: false,
      reason: 'not_enrolled',
    });
    expect(await svc.verifyEmailCode(u, { key: k, code, enroll: true })).toMatchObject({ ok: true });
    const list = await svc.list(u);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ type: 'EMAIL_OTP', name: 'n•••@example.com', email: { address } });
    const view = await new UserRecords(store).view(u);
    expect(view).toMatchObject({ isEnrolled: true, enrolledVerificationMethods: ['EMAIL_OTP'] });
  });
});

describe('passkeys', () => {
  it('are only in a service built with the ceremonies; the management one refuses them by name', async () => {
    const management = createAuthenticatorService(store, {
      mailer: outbox,
      secretBox: LocalSecretBox.open(mkdtempSync(join(tmpdir(), 'authn-box-')), 'us'),
      rpId: RP_ID,
      rpName: 'Demo Corp',
      origin: ORIGIN,
    });
    const u = user();
    // Everything else works without them: list, TOTP enrollment, removal.
    const { authenticator } = await management.createTotp(u, 'ada@example.com');
    expect((await management.list(u)).map((a) => a.id)).toEqual([authenticator.id]);
    expect(() => management.passkeyAuthenticationOptions(u, { key: key() })).toThrow(
      /built without passkey ceremonies/,
    );
    expect(await svc.passkeyAuthenticationOptions(u, { key: key() })).toHaveProperty('challenge');
  });

  async function registered(u: string) {
    const passkey = new SoftPasskey(ORIGIN);
    const k = key();
    const options = await svc.passkeyRegistrationOptions(u, {
      key: k,
      userName: 'jane',
      displayName: 'Jane',
    });
    const record = await svc.verifyPasskeyRegistration(u, { key: k, response: passkey.register(options) });
    expect(record).toBeDefined();
    return { passkey, record: record! };
  }

  it('asks for a discoverable credential for this RP, excluding the ones the user has', async () => {
    const u = user();
    const options = await svc.passkeyRegistrationOptions(u, {
      key: key(),
      userName: 'jane',
      displayName: 'Jane',
    });
    expect(options.rp).toEqual({ id: RP_ID, name: 'Demo Corp' });
    expect(options.user.name).toBe('jane');
    expect(options.user.displayName).toBe('Jane');
    expect(options.attestation).toBe('none');
    expect(options.authenticatorSelection).toMatchObject({
      residentKey: 'required',
      userVerification: 'required',
    });
    expect(options.pubKeyCredParams.map((p) => p.alg)).toContain(-7);
    expect(options.excludeCredentials).toEqual([]);
    // A stable, random user handle: the same for every ceremony, not derived from the user id.
    const again = await svc.passkeyRegistrationOptions(u, {
      key: key(),
      userName: 'jane',
      displayName: 'Jane',
    });
    expect(again.user.id).toBe(options.user.id);
    expect(Buffer.from(options.user.id, 'base64url')).toHaveLength(32);
    expect(Buffer.from(options.user.id, 'base64url').toString()).not.toContain(u);
    const other = await svc.passkeyRegistrationOptions(user(), {
      key: key(),
      userName: 'x',
      displayName: 'X',
    });
    expect(other.user.id).not.toBe(options.user.id);

    const { passkey } = await registered(u);
    const next = await svc.passkeyRegistrationOptions(u, {
      key: key(),
      userName: 'jane',
      displayName: 'Jane',
    });
    expect(next.excludeCredentials).toEqual([
      { id: passkey.id, type: 'public-key', transports: ['internal', 'hybrid'] },
    ]);
  });

  it('registers and signs in without a browser; a replayed challenge fails both ways', async () => {
    const u = user();
    const passkey = new SoftPasskey(ORIGIN);
    const k = key();
    const regOptions = await svc.passkeyRegistrationOptions(u, {
      key: k,
      userName: 'jane',
      displayName: 'Jane',
    });
    const regResponse = passkey.register(regOptions);
    const record = await svc.verifyPasskeyRegistration(u, { key: k, response: regResponse });
    expect(record).toMatchObject({
      type: 'PASSKEY',
      name: 'Passkey',
      passkey: {
        credentialId: passkey.id,
        publicKey: passkey.cose.toString('base64url'),
        counter: 0,
        transports: ['internal', 'hybrid'],
      },
    });
    // The registration challenge was spent.
    expect(await svc.verifyPasskeyRegistration(u, { key: k, response: regResponse })).toBeUndefined();
    expect(await svc.list(u)).toHaveLength(1);

    const k2 = key();
    const authOptions = await svc.passkeyAuthenticationOptions(u, { key: k2 });
    expect(authOptions.rpId).toBe(RP_ID);
    expect(authOptions.userVerification).toBe('required');
    expect(authOptions.allowCredentials).toEqual([
      { id: passkey.id, type: 'public-key', transports: ['internal', 'hybrid'] },
    ]);
    const assertion = passkey.authenticate(authOptions);
    expect(await svc.verifyPasskeyAuthentication(u, { key: k2, response: assertion })).toEqual({
      ok: true,
      authenticatorId: record!.id,
    });
    const [after] = await svc.list(u);
    expect(after!.passkey!.counter).toBe(1);
    expect(after!.lastUsedAt).toBe(new Date(clock).toISOString());

    // Replayed: the same assertion again, and again under a fresh challenge.
    expect(await svc.verifyPasskeyAuthentication(u, { key: k2, response: assertion })).toEqual({
      ok: false,
      reason: 'used',
    });
    const k3 = key();
    await svc.passkeyAuthenticationOptions(u, { key: k3 });
    expect(await svc.verifyPasskeyAuthentication(u, { key: k3, response: assertion })).toEqual({
      ok: false,
      reason: 'invalid_response',
    });
    // A fresh ceremony still works, and the counter moves on.
    const k4 = key();
    const fresh = passkey.authenticate(await svc.passkeyAuthenticationOptions(u, { key: k4 }));
    expect((await svc.verifyPasskeyAuthentication(u, { key: k4, response: fresh })).ok).toBe(true);
    expect((await svc.list(u))[0]!.passkey!.counter).toBe(2);
  });

  it('refuses an assertion without user verification: a passkey is a whole factor only with UV', async () => {
    const u = user();
    const { passkey } = await registered(u);
    const k = key();
    const presenceOnly = passkey.authenticate(await svc.passkeyAuthenticationOptions(u, { key: k }), {
      flags: 0x01,
    });
    expect(await svc.verifyPasskeyAuthentication(u, { key: k, response: presenceOnly })).toEqual({
      ok: false,
      reason: 'invalid_response',
    });
  });

  it('refuses another origin, another key, another user and an expired key', async () => {
    const u = user();
    const { passkey } = await registered(u);

    const k1 = key();
    const wrongOrigin = passkey.authenticate(await svc.passkeyAuthenticationOptions(u, { key: k1 }), {
      origin: 'http://evil.us.localhost:3000',
    });
    expect(await svc.verifyPasskeyAuthentication(u, { key: k1, response: wrongOrigin })).toEqual({
      ok: false,
      reason: 'invalid_response',
    });

    const k2 = key();
    const options = await svc.passkeyAuthenticationOptions(u, { key: k2 });
    const impostor = new SoftPasskey(ORIGIN);
    impostor.userHandle = passkey.userHandle;
    const forged = { ...impostor.authenticate(options), id: passkey.id, rawId: passkey.id };
    expect(await svc.verifyPasskeyAuthentication(u, { key: k2, response: forged })).toEqual({
      ok: false,
      reason: 'invalid_response',
    });

    // A challenge issued to one user cannot be spent by another.
    const k3 = key();
    const forU = await svc.passkeyAuthenticationOptions(u, { key: k3 });
    expect(
      await svc.verifyPasskeyAuthentication(user(), { key: k3, response: passkey.authenticate(forU) }),
    ).toEqual({
      ok: false,
      reason: 'expired',
    });
    expect(
      await svc.verifyPasskeyAuthentication(u, { key: key(), response: passkey.authenticate(forU) }),
    ).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('registers a credential once per tenant, and removes it', async () => {
    const u = user();
    const { passkey, record } = await registered(u);
    const other = user();
    const k = key();
    const options = await svc.passkeyRegistrationOptions(other, { key: k, userName: 'o', displayName: 'O' });
    expect(
      await svc.verifyPasskeyRegistration(other, { key: k, response: passkey.register(options) }),
    ).toBeUndefined();
    expect(await svc.list(other)).toEqual([]);

    expect(await svc.remove(u, record.id)).toBe(true);
    expect(await svc.remove(u, record.id)).toBe(false);
    expect(await svc.list(u)).toEqual([]);
    // Removed, the credential may be registered again.
    const k2 = key();
    const again = await svc.passkeyRegistrationOptions(u, { key: k2, userName: 'jane', displayName: 'Jane' });
    expect(
      await svc.verifyPasskeyRegistration(u, { key: k2, response: passkey.register(again) }),
    ).toBeDefined();
  });

  it('a registration signed for another origin or RP is refused', async () => {
    const u = user();
    const passkey = new SoftPasskey(ORIGIN);
    const k = key();
    const options = await svc.passkeyRegistrationOptions(u, {
      key: k,
      userName: 'jane',
      displayName: 'Jane',
    });
    expect(
      await svc.verifyPasskeyRegistration(u, {
        key: k,
        response: passkey.register(options, { origin: 'https://evil.example' }),
      }),
    ).toBeUndefined();
    const k2 = key();
    const options2 = await svc.passkeyRegistrationOptions(u, {
      key: k2,
      userName: 'jane',
      displayName: 'Jane',
    });
    const otherRp = passkey.register({ ...options2, rp: { ...options2.rp, id: 'evil.us.localhost' } });
    expect(await svc.verifyPasskeyRegistration(u, { key: k2, response: otherRp })).toBeUndefined();
    expect(await svc.list(u)).toEqual([]);
  });
});
