import { randomBytes, randomUUID } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { ConditionFailedError, type Key } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { userPk } from '../users/user-records.js';
import { DEFAULT_NAMES } from './display.js';
import { authenticatorKey, credentialKey, type AuthenticatorRepository, type Clock } from './repository.js';
import {
  checkKey,
  fail,
  type AuthenticatorRecord,
  type PasskeyCeremonies,
  type VerifyFailure,
  type VerifyResult,
} from './types.js';

/** How long a WebAuthn ceremony may take (the browser's `timeout`, and the challenge's lifetime). */
export const WEBAUTHN_TIMEOUT_SECONDS = 5 * 60;

/*
 * The WebAuthn user handle lives in the user's partition; a ceremony's challenge under the caller's
 * interaction key, so two browser tabs never consume each other's challenge (the tenant prefix is
 * added by the TenantStore).
 */
export const webauthnUserKey = (userId: string): Key => ({ pk: userPk(userId), sk: 'webauthn' });
export const challengeKey = (key: string): Key => ({ pk: `webauthn-challenge#${key}`, sk: 'challenge' });

interface ChallengeItem {
  userId: string;
  challenge: string;
  purpose: 'registration' | 'authentication';
  expiresAt: number;
  [k: string]: unknown;
}

interface RelyingParty {
  rpId: string;
  rpName: string;
  origin: string;
}

/** Passkeys (WebAuthn Level 3): discoverable credentials with user verification required. */
export class Passkeys implements PasskeyCeremonies {
  private readonly ceremony: ReturnType<typeof passkeyCeremony>;

  constructor(
    private readonly store: TenantStore,
    private readonly repo: AuthenticatorRepository,
    private readonly rp: RelyingParty,
    private readonly clock: Clock,
  ) {
    this.ceremony = passkeyCeremony(store, clock);
  }

  private async descriptors(userId: string) {
    return (await this.repo.ofType(userId, 'PASSKEY')).map((p) => ({
      id: p.passkey!.credentialId,
      ...(p.passkey!.transports ? { transports: p.passkey!.transports } : {}),
    }));
  }

  async passkeyRegistrationOptions(
    userId: string,
    o: { key: string; userName: string; displayName: string },
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    checkKey(o.key);
    const options = await generateRegistrationOptions({
      rpName: this.rp.rpName,
      rpID: this.rp.rpId,
      userName: o.userName,
      userDisplayName: o.displayName,
      userID: new Uint8Array(Buffer.from(await this.ceremony.userHandle(userId), 'base64url')),
      timeout: WEBAUTHN_TIMEOUT_SECONDS * 1000,
      attestationType: 'none',
      excludeCredentials: await this.descriptors(userId),
      authenticatorSelection: {
        residentKey: 'required',
        requireResidentKey: true,
        userVerification: 'required',
      },
    });
    await this.ceremony.saveChallenge(o.key, userId, 'registration', options.challenge);
    return options;
  }

  async verifyPasskeyRegistration(
    userId: string,
    o: { key: string; response: RegistrationResponseJSON },
  ): Promise<AuthenticatorRecord | undefined> {
    checkKey(o.key);
    const challenge = await this.ceremony.takeChallenge(o.key, userId, 'registration');
    if (typeof challenge === 'string') return undefined;
    const record = await registeredRecord(o.response, challenge.challenge, this.rp, this.clock);
    if (!record) return undefined;
    try {
      await this.store.transact([
        {
          put: {
            key: credentialKey(record.passkey!.credentialId),
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
  }

  async passkeyAuthenticationOptions(
    userId: string,
    o: { key: string },
  ): Promise<PublicKeyCredentialRequestOptionsJSON> {
    checkKey(o.key);
    const options = await generateAuthenticationOptions({
      rpID: this.rp.rpId,
      allowCredentials: await this.descriptors(userId),
      userVerification: 'required',
      timeout: WEBAUTHN_TIMEOUT_SECONDS * 1000,
    });
    await this.ceremony.saveChallenge(o.key, userId, 'authentication', options.challenge);
    return options;
  }

  async verifyPasskeyAuthentication(
    userId: string,
    o: { key: string; response: AuthenticationResponseJSON },
  ): Promise<VerifyResult> {
    checkKey(o.key);
    const challenge = await this.ceremony.takeChallenge(o.key, userId, 'authentication');
    if (typeof challenge === 'string') return fail(challenge);
    const passkey = (await this.repo.ofType(userId, 'PASSKEY')).find(
      (p) => p.passkey!.credentialId === o.response.id,
    );
    if (!passkey) return fail('unknown_credential');
    // A discoverable credential names its user: it must be this one.
    const handle = o.response.response.userHandle;
    if (handle && handle !== (await this.ceremony.userHandle(userId))) return fail('unknown_credential');
    return verifyAssertion(this.store, userId, passkey, o.response, challenge.challenge, this.rp, this.clock);
  }
}

/** The WebAuthn user handle and single-use challenges of one tenant. */
function passkeyCeremony(store: TenantStore, clock: Clock) {
  return {
    /** A stable, random WebAuthn user handle (no personal data in it, as WebAuthn §14.6.1 asks). */
    async userHandle(userId: string): Promise<string> {
      const existing = await store.get<{ userHandle: string }>(webauthnUserKey(userId));
      if (existing) return existing.userHandle;
      const handle = randomBytes(32).toString('base64url');
      try {
        await store.put(
          webauthnUserKey(userId),
          { userHandle: handle, createdAt: clock.iso() },
          { ifAbsent: true },
        );
        return handle;
      } catch (err) {
        if (!(err instanceof ConditionFailedError)) throw err;
        const raced = await store.get<{ userHandle: string }>(webauthnUserKey(userId));
        if (!raced) throw err;
        return raced.userHandle;
      }
    },

    /** A new ceremony under the same key replaces the previous one. */
    async saveChallenge(key: string, userId: string, purpose: ChallengeItem['purpose'], challenge: string) {
      const item: ChallengeItem = {
        userId,
        challenge,
        purpose,
        expiresAt: clock.seconds() + WEBAUTHN_TIMEOUT_SECONDS,
      };
      await store.put(challengeKey(key), item);
    },

    /** Single-use: consumed before the response is even looked at, so it can never verify twice. */
    async takeChallenge(
      key: string,
      userId: string,
      purpose: ChallengeItem['purpose'],
    ): Promise<ChallengeItem | VerifyFailure> {
      const res = await store.consume<ChallengeItem>(challengeKey(key));
      if (res.status === 'replayed') return 'used';
      if (res.status !== 'consumed') return 'expired';
      const c = res.item;
      if (c.expiresAt <= clock.seconds()) return 'expired';
      if (c.userId !== userId || c.purpose !== purpose) return 'expired';
      return c;
    },
  };
}

/** The authenticator record a registration response makes, or undefined when it does not verify. */
async function registeredRecord(
  response: RegistrationResponseJSON,
  expectedChallenge: string,
  rp: RelyingParty,
  clock: Clock,
): Promise<AuthenticatorRecord | undefined> {
  let info;
  try {
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpId,
      requireUserVerification: true,
    });
    if (!result.verified) return undefined;
    info = result.registrationInfo;
  } catch {
    return undefined;
  }
  const { credential } = info;
  return {
    id: randomUUID(),
    type: 'PASSKEY',
    name: DEFAULT_NAMES.PASSKEY,
    createdAt: clock.iso(),
    passkey: {
      credentialId: credential.id,
      publicKey: Buffer.from(credential.publicKey).toString('base64url'),
      counter: credential.counter,
      ...(credential.transports?.length ? { transports: credential.transports } : {}),
      backedUp: info.credentialBackedUp,
      deviceType: info.credentialDeviceType,
    },
  };
}

/** Checks an assertion against a stored passkey and records its new signature counter. */
async function verifyAssertion(
  store: TenantStore,
  userId: string,
  passkey: AuthenticatorRecord,
  response: AuthenticationResponseJSON,
  expectedChallenge: string,
  rp: RelyingParty,
  clock: Clock,
): Promise<VerifyResult> {
  const pk = passkey.passkey!;
  let info;
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpId,
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
      lastUsedAt: clock.iso(),
    });
  } catch (err) {
    if (err instanceof ConditionFailedError) return fail('unknown_credential');
    throw err;
  }
  return { ok: true, authenticatorId: passkey.id };
}

/** The passkey ceremonies for `createAuthenticatorService` (service.ts): what the hosted pages pass. */
export const withPasskeys = (
  store: TenantStore,
  repo: AuthenticatorRepository,
  rp: RelyingParty,
  clock: Clock,
): PasskeyCeremonies => new Passkeys(store, repo, rp, clock);
