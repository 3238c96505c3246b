import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { isSealed, SecretBoxError, type SecretBox } from '../crypto/secret-box.js';
import { logger } from '../log.js';
import { constantTimeEqual, sha256 } from '../crypto/secrets.js';
import type { Mailer } from '../mail/mailer.js';
import { ConditionFailedError, type Key } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { userPk } from '../users/user-records.js';
import { DEFAULT_NAMES, maskEmail, normaliseEmail } from './display.js';
import { EMAIL_CODE_MINUTES, emailCodeMail } from './email-message.js';
import { isTotpSecret, newTotpSecretBase32, normaliseCode, totpQrSvg, totpStep, totpUri } from './totp.js';
import type { AuthenticatorRecord, AuthenticatorService, SendResult, VerifyResult } from './types.js';

/** Sending limits for emailed codes: fixed windows, counted atomically in the table. */
export const EMAIL_SEND_LIMITS = {
  perUser: { max: 5, windowSeconds: 15 * 60 },
  perIp: { max: 20, windowSeconds: 60 * 60 },
} as const;
/** Guesses one emailed code survives: the 5th wrong one kills it. */
export const EMAIL_CODE_MAX_ATTEMPTS = 5;
export const EMAIL_CODE_TTL_SECONDS = EMAIL_CODE_MINUTES * 60;
/** How long a WebAuthn ceremony may take (the browser's `timeout`, and the challenge's lifetime). */
export const WEBAUTHN_TIMEOUT_SECONDS = 5 * 60;

/**
 * Why a verification failed (`VerifyResult.reason`). Pages show one message for all of them but
 * the first two; the rest are for logs and tests.
 */
export type VerifyFailure =
  | 'invalid_code' // wrong code (an attempt was counted)
  | 'too_many_attempts' // the emailed code is dead: request a new one
  | 'expired' // no live code or challenge under this key
  | 'used' // already used (one-time code, TOTP step, challenge)
  | 'not_enrolled' // nothing to verify against
  | 'invalid_response' // a WebAuthn response that does not verify
  | 'unknown_credential'; // a passkey this user does not have

export interface AuthenticatorServiceOptions {
  mailer: Mailer;
  /** Seals TOTP secrets at rest, bound to their tenant and user (the region's `secretBox`). */
  secretBox: SecretBox;
  /** WebAuthn relying party id: the tenant host without port (`demo.us.localhost`). */
  rpId: string;
  /** Shown by authenticator apps and passkey prompts: the tenant's name. */
  rpName: string;
  /** The exact origin pages are served from (`http://demo.us.localhost:3000`), checked in clientDataJSON. */
  origin: string;
  /** Epoch milliseconds (tests move time). */
  now?: () => number;
}

type Stored = AuthenticatorRecord & { sk?: string; [k: string]: unknown };

interface EmailCodeItem {
  userId: string;
  codeHash: string;
  to: string;
  attempts: number;
  createdAt: string;
  expiresAt: number;
  consumedAt?: number;
  [k: string]: unknown;
}

interface ChallengeItem {
  userId: string;
  challenge: string;
  purpose: 'registration' | 'authentication';
  expiresAt: number;
  [k: string]: unknown;
}

/* Where everything lives (tenant prefix added by the TenantStore). Authenticators and the WebAuthn
 * user handle are in the user's partition; one-time state is under the caller's interaction key. */
const authenticatorKey = (userId: string, id: string): Key => ({ pk: userPk(userId), sk: `authn#${id}` });
const webauthnUserKey = (userId: string): Key => ({ pk: userPk(userId), sk: 'webauthn' });
/** One credential id belongs to one user of a tenant (WebAuthn §7.1 step 22). */
const credentialKey = (credentialId: string): Key => ({ pk: `passkey#${credentialId}`, sk: 'credential' });
const challengeKey = (key: string): Key => ({ pk: `webauthn-challenge#${key}`, sk: 'challenge' });
const emailCodeKey = (key: string): Key => ({ pk: `email-code#${key}`, sk: 'code' });
const rateKey = (scope: string, subject: string, window: number): Key => ({
  pk: `rate#${scope}#${subject}`,
  sk: String(window),
});

/** The code's hash at rest, bound to its interaction key so it is worthless under any other. */
const codeHash = (key: string, code: string) => sha256(`${key}:${code}`);

function checkKey(key: string): void {
  if (!key || key.length > 256) throw new Error('an interaction key of 1 to 256 characters is required');
}

const fail = (reason: VerifyFailure): VerifyResult => ({ ok: false, reason });

/**
 * The authenticator layer: TOTP apps, emailed one-time codes and passkeys, for one tenant.
 * Stateless apart from the store, so build one per request.
 */
export function createAuthenticatorService(
  store: TenantStore,
  opts: AuthenticatorServiceOptions,
): AuthenticatorService {
  const now = opts.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();
  const seconds = () => Math.floor(now() / 1000);

  async function list(userId: string): Promise<AuthenticatorRecord[]> {
    const items = await store.query<Stored>(userPk(userId), 'authn#');
    return items
      .map(({ sk: _sk, ...rest }) => rest as AuthenticatorRecord)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async function ofType(userId: string, type: AuthenticatorRecord['type']) {
    return (await list(userId)).filter((a) => a.type === type);
  }

  async function save(userId: string, record: AuthenticatorRecord): Promise<AuthenticatorRecord> {
    await store.put(authenticatorKey(userId, record.id), { ...record }, { ifAbsent: true });
    return record;
  }

  async function touch(userId: string, id: string): Promise<void> {
    try {
      await store.update(authenticatorKey(userId, id), { lastUsedAt: iso() });
    } catch (err) {
      // Removed in the meantime: the verification itself still stands.
      if (!(err instanceof ConditionFailedError)) throw err;
    }
  }

  /** One unit of a fixed-window limit; the seconds until the window ends when it is used up. */
  async function take(
    scope: string,
    subject: string,
    limit: { max: number; windowSeconds: number },
  ): Promise<number | undefined> {
    const t = seconds();
    const window = Math.floor(t / limit.windowSeconds);
    const end = (window + 1) * limit.windowSeconds;
    try {
      await store.increment(rateKey(scope, subject, window), 'count', {
        below: limit.max,
        create: { expiresAt: end },
      });
      return undefined;
    } catch (err) {
      if (err instanceof ConditionFailedError) return Math.max(1, end - t);
      throw err;
    }
  }

  // ---- Authenticator apps (TOTP) ----

  // TOTP verification needs the shared secret itself (RFC 6238), so unlike our own secrets it cannot
  // be kept as a hash: it is sealed by the secret box (KMS on AWS), bound to this tenant and user, so
  // the item alone gives nothing away and a sealed secret copied to another user's item does not
  // open. It never leaves the service (`toView` drops it).
  const totpContext = (userId: string) => ({ tenantId: store.tenantId, userId, purpose: 'totp' });
  const sealTotp = (userId: string, secret: string) => opts.secretBox.seal(secret, totpContext(userId));
  /** A stored or pending secret in clear; one written before sealing existed (no prefix) is read as is. */
  const openTotp = async (userId: string, stored: string): Promise<string | undefined> => {
    if (!isSealed(stored)) return stored;
    try {
      return await opts.secretBox.open(stored, totpContext(userId));
    } catch (err) {
      // A sealed secret that does not open (tampered, or copied from another user) verifies
      // nothing: the user gets "wrong code", the operator a log line, never a 500.
      if (!(err instanceof SecretBoxError)) throw err;
      logger.error('a TOTP secret does not open', { reason: err.message });
      return undefined;
    }
  };

  function appRecord(sealedSecret: string, lastStep: number, name?: string): AuthenticatorRecord {
    return {
      id: randomUUID(),
      type: 'AUTHENTICATOR_APP',
      name: name?.trim() || DEFAULT_NAMES.AUTHENTICATOR_APP,
      createdAt: iso(),
      totp: { secret: sealedSecret, lastStep },
    };
  }

  // ---- Passkeys (WebAuthn) ----

  /** A stable, random WebAuthn user handle (no personal data in it, as WebAuthn §14.6.1 asks). */
  async function userHandle(userId: string): Promise<string> {
    const existing = await store.get<{ userHandle: string }>(webauthnUserKey(userId));
    if (existing) return existing.userHandle;
    const handle = randomBytes(32).toString('base64url');
    try {
      await store.put(webauthnUserKey(userId), { userHandle: handle, createdAt: iso() }, { ifAbsent: true });
      return handle;
    } catch (err) {
      if (!(err instanceof ConditionFailedError)) throw err;
      const raced = await store.get<{ userHandle: string }>(webauthnUserKey(userId));
      if (!raced) throw err;
      return raced.userHandle;
    }
  }

  async function saveChallenge(
    key: string,
    userId: string,
    purpose: ChallengeItem['purpose'],
    challenge: string,
  ) {
    const item: ChallengeItem = {
      userId,
      challenge,
      purpose,
      expiresAt: seconds() + WEBAUTHN_TIMEOUT_SECONDS,
    };
    // A new ceremony under the same key replaces the previous one.
    await store.put(challengeKey(key), item);
  }

  /** Single-use: consumed before the response is even looked at, so it can never verify twice. */
  async function takeChallenge(
    key: string,
    userId: string,
    purpose: ChallengeItem['purpose'],
  ): Promise<ChallengeItem | VerifyFailure> {
    const res = await store.consume<ChallengeItem>(challengeKey(key));
    if (res.status === 'replayed') return 'used';
    if (res.status !== 'consumed') return 'expired';
    const c = res.item;
    if (c.expiresAt <= seconds()) return 'expired';
    if (c.userId !== userId || c.purpose !== purpose) return 'expired';
    return c;
  }

  const passkeyDescriptors = async (userId: string) =>
    (await ofType(userId, 'PASSKEY')).map((p) => ({
      id: p.passkey!.credentialId,
      ...(p.passkey!.transports ? { transports: p.passkey!.transports } : {}),
    }));

  const service: AuthenticatorService = {
    list,

    async remove(userId, authenticatorId) {
      const key = authenticatorKey(userId, authenticatorId);
      const existing = await store.get<Stored>(key);
      if (!existing) return false;
      try {
        await store.transact([
          { delete: { key, ifPresent: true } },
          ...(existing.passkey ? [{ delete: { key: credentialKey(existing.passkey.credentialId) } }] : []),
        ]);
        return true;
      } catch (err) {
        if (err instanceof ConditionFailedError) return false;
        throw err;
      }
    },

    async newTotpSecret(userId, accountLabel) {
      const secret = newTotpSecretBase32();
      const uri = totpUri(secret, opts.rpName, accountLabel);
      const [sealed, qrSvg] = await Promise.all([sealTotp(userId, secret), totpQrSvg(uri)]);
      return { secret, sealed, uri, qrSvg };
    },

    async confirmTotp(userId, pending, code) {
      if (normaliseCode(code) === undefined) return undefined;
      const secret = await openTotp(userId, pending);
      if (secret === undefined) return undefined;
      if (!isTotpSecret(secret)) return undefined;
      const step = totpStep(secret, code, now());
      if (step === undefined) return undefined;
      // A second confirmation of the same secret (a double submit) enrols nothing new.
      for (const app of await ofType(userId, 'AUTHENTICATOR_APP')) {
        if (app.totp && constantTimeEqual((await openTotp(userId, app.totp.secret)) ?? '', secret))
          return undefined;
      }
      // The confirming code counts as used: it cannot then sign the user in. A pending secret sealed
      // by `newTotpSecret` is already sealed for this user and is kept as it is.
      const sealed = isSealed(pending) ? pending : await sealTotp(userId, secret);
      return save(userId, appRecord(sealed, step));
    },

    async createTotp(userId, accountLabel, o = {}) {
      const secret = newTotpSecretBase32();
      const authenticator = await save(userId, appRecord(await sealTotp(userId, secret), 0, o.name));
      return { authenticator, secret, uri: totpUri(secret, opts.rpName, accountLabel) };
    },

    async verifyTotp(userId, code) {
      const apps = await ofType(userId, 'AUTHENTICATOR_APP');
      if (apps.length === 0) return fail('not_enrolled');
      if (normaliseCode(code) === undefined) return fail('invalid_code');
      let reason: VerifyFailure = 'invalid_code';
      for (const app of apps) {
        // Items written before sealing existed hold the secret in clear and are still read. They are
        // not re-sealed here: replacing the `totp` map would race the conditional lastStep write
        // below (the store has no conditional update of one map entry), so that is left to a migration.
        const secret = await openTotp(userId, app.totp!.secret);
        const step = secret === undefined ? undefined : totpStep(secret, code, now());
        if (step === undefined) continue;
        const last = app.totp!.lastStep ?? 0;
        if (step <= last) {
          reason = 'used';
          continue;
        }
        // Replay protection: move lastStep from `last` to `step` in one conditional write (it only
        // ever grows, so "still below last + 1" means "still last"). Of two concurrent uses of one
        // code, or of a code and an older one, exactly one gets past this line.
        try {
          await store.increment(authenticatorKey(userId, app.id), ['totp', 'lastStep'], {
            by: step - last,
            below: last + 1,
          });
        } catch (err) {
          if (!(err instanceof ConditionFailedError)) throw err;
          reason = 'used';
          continue;
        }
        await touch(userId, app.id);
        return { ok: true, authenticatorId: app.id };
      }
      return fail(reason);
    },

    // ---- Emailed one-time codes ----

    async enrollEmail(userId, address) {
      const email = normaliseEmail(address);
      const same = (await ofType(userId, 'EMAIL_OTP')).find((a) => a.email?.address === email);
      if (same) return same;
      return save(userId, {
        id: randomUUID(),
        type: 'EMAIL_OTP',
        name: maskEmail(email),
        createdAt: iso(),
        email: { address: email },
      });
    },

    async sendEmailCode(userId, o): Promise<SendResult> {
      checkKey(o.key);
      const to =
        o.to !== undefined ? normaliseEmail(o.to) : (await ofType(userId, 'EMAIL_OTP'))[0]?.email?.address;
      if (!to) return { sent: false, to: '', reason: 'no_address' };
      const masked = maskEmail(to);
      // The IP first: a user's allowance is not spent by requests the IP limit refuses anyway.
      const retryAfter =
        (await take('email-ip', o.ip || 'unknown', EMAIL_SEND_LIMITS.perIp)) ??
        (await take('email-user', userId, EMAIL_SEND_LIMITS.perUser));
      if (retryAfter !== undefined) return { sent: false, to: masked, retryAfter, reason: 'rate_limited' };

      const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
      const item: EmailCodeItem = {
        userId,
        codeHash: codeHash(o.key, code),
        to,
        attempts: 0,
        createdAt: iso(),
        expiresAt: seconds() + EMAIL_CODE_TTL_SECONDS,
      };
      // A new code under the same key replaces the previous one (and its attempt count).
      await store.put(emailCodeKey(o.key), item);
      await opts.mailer.send(emailCodeMail({ to, code, tenantName: o.tenantName, locale: o.locale }));
      return { sent: true, to: masked };
    },

    async verifyEmailCode(userId, o) {
      checkKey(o.key);
      const code = normaliseCode(o.code);
      if (code === undefined) return fail('invalid_code');
      const key = emailCodeKey(o.key);
      // Count the attempt before looking at the code: however many guesses race, at most
      // EMAIL_CODE_MAX_ATTEMPTS of them are ever compared.
      let item: EmailCodeItem;
      try {
        item = await store.increment<EmailCodeItem>(key, 'attempts', {
          below: EMAIL_CODE_MAX_ATTEMPTS,
          unconsumed: true,
        });
      } catch (err) {
        if (!(err instanceof ConditionFailedError)) throw err;
        const current = await store.get<EmailCodeItem>(key);
        if (!current) return fail('expired');
        return fail(current.consumedAt !== undefined ? 'used' : 'too_many_attempts');
      }
      if (item.expiresAt <= seconds()) return fail('expired');
      if (item.userId !== userId || !constantTimeEqual(codeHash(o.key, code), item.codeHash)) {
        return fail('invalid_code');
      }
      const consumed = await store.consume<EmailCodeItem>(key);
      if (consumed.status !== 'consumed') return fail(consumed.status === 'replayed' ? 'used' : 'expired');

      const enrolled = (await ofType(userId, 'EMAIL_OTP')).find((a) => a.email?.address === item.to);
      if (enrolled) {
        await touch(userId, enrolled.id);
        return { ok: true, authenticatorId: enrolled.id };
      }
      if (!o.enroll) return fail('not_enrolled');
      const created = await service.enrollEmail(userId, item.to);
      return { ok: true, authenticatorId: created.id };
    },

    // ---- Passkeys ----

    async passkeyRegistrationOptions(userId, o): Promise<PublicKeyCredentialCreationOptionsJSON> {
      checkKey(o.key);
      const options = await generateRegistrationOptions({
        rpName: opts.rpName,
        rpID: opts.rpId,
        userName: o.userName,
        userDisplayName: o.displayName,
        userID: new Uint8Array(Buffer.from(await userHandle(userId), 'base64url')),
        timeout: WEBAUTHN_TIMEOUT_SECONDS * 1000,
        attestationType: 'none',
        excludeCredentials: await passkeyDescriptors(userId),
        authenticatorSelection: {
          residentKey: 'required',
          requireResidentKey: true,
          userVerification: 'required',
        },
      });
      await saveChallenge(o.key, userId, 'registration', options.challenge);
      return options;
    },

    async verifyPasskeyRegistration(userId, o) {
      checkKey(o.key);
      const challenge = await takeChallenge(o.key, userId, 'registration');
      if (typeof challenge === 'string') return undefined;
      let info;
      try {
        const result = await verifyRegistrationResponse({
          response: o.response,
          expectedChallenge: challenge.challenge,
          expectedOrigin: opts.origin,
          expectedRPID: opts.rpId,
          // 'preferred' at registration: a security key without a PIN is still a possession factor.
          requireUserVerification: true,
        });
        if (!result.verified) return undefined;
        info = result.registrationInfo;
      } catch {
        return undefined;
      }
      const { credential } = info;
      const record: AuthenticatorRecord = {
        id: randomUUID(),
        type: 'PASSKEY',
        name: DEFAULT_NAMES.PASSKEY,
        createdAt: iso(),
        passkey: {
          credentialId: credential.id,
          publicKey: Buffer.from(credential.publicKey).toString('base64url'),
          counter: credential.counter,
          ...(credential.transports?.length ? { transports: credential.transports } : {}),
          backedUp: info.credentialBackedUp,
          deviceType: info.credentialDeviceType,
        },
      };
      try {
        await store.transact([
          {
            put: {
              key: credentialKey(credential.id),
              item: { userId, authenticatorId: record.id },
              ifAbsent: true,
            },
          },
          { put: { key: authenticatorKey(userId, record.id), item: { ...record }, ifAbsent: true } },
        ]);
      } catch (err) {
        // This credential is already registered (to this user or another).
        if (err instanceof ConditionFailedError) return undefined;
        throw err;
      }
      return record;
    },

    async passkeyAuthenticationOptions(userId, o): Promise<PublicKeyCredentialRequestOptionsJSON> {
      checkKey(o.key);
      const options = await generateAuthenticationOptions({
        rpID: opts.rpId,
        allowCredentials: await passkeyDescriptors(userId),
        userVerification: 'required',
        timeout: WEBAUTHN_TIMEOUT_SECONDS * 1000,
      });
      await saveChallenge(o.key, userId, 'authentication', options.challenge);
      return options;
    },

    async verifyPasskeyAuthentication(userId, o) {
      checkKey(o.key);
      const challenge = await takeChallenge(o.key, userId, 'authentication');
      if (typeof challenge === 'string') return fail(challenge);
      const passkey = (await ofType(userId, 'PASSKEY')).find(
        (p) => p.passkey!.credentialId === o.response.id,
      );
      if (!passkey) return fail('unknown_credential');
      // A discoverable credential names its user: it must be this one.
      const handle = o.response.response.userHandle;
      if (handle && handle !== (await userHandle(userId))) return fail('unknown_credential');
      const pk = passkey.passkey!;
      let info;
      try {
        const result = await verifyAuthenticationResponse({
          response: o.response,
          expectedChallenge: challenge.challenge,
          expectedOrigin: opts.origin,
          expectedRPID: opts.rpId,
          credential: {
            id: pk.credentialId,
            publicKey: new Uint8Array(Buffer.from(pk.publicKey, 'base64url')),
            counter: pk.counter,
            ...(pk.transports ? { transports: pk.transports } : {}),
          },
          requireUserVerification: true,
        });
        if (!result.verified) return fail('invalid_response');
        info = result.authenticationInfo;
      } catch {
        return fail('invalid_response');
      }
      try {
        await store.update(authenticatorKey(userId, passkey.id), {
          passkey: { ...pk, counter: info.newCounter, backedUp: info.credentialBackedUp },
          lastUsedAt: iso(),
        });
      } catch (err) {
        if (err instanceof ConditionFailedError) return fail('unknown_credential');
        throw err;
      }
      return { ok: true, authenticatorId: passkey.id };
    },
  };
  return service;
}
