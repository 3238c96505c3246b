import { randomUUID } from 'node:crypto';
import { isSealed, SecretBoxError, type SecretBox } from '../crypto/secret-box.js';
import { constantTimeEqual } from '../crypto/secrets.js';
import { logger } from '../log.js';
import { ConditionFailedError } from '../store/store.js';
import type { TenantStore } from '../store/tenant-store.js';
import { DEFAULT_NAMES } from './display.js';
import { refusedGuess, type GuessLimits } from './guess-limits.js';
import { authenticatorKey, type AuthenticatorRepository, type Clock } from './repository.js';
import { isTotpSecret, newTotpSecretBase32, normaliseCode, totpQrSvg, totpStep, totpUri } from './totp.js';
import {
  fail,
  type AuthenticatorRecord,
  type AuthenticatorService,
  type VerifyFailure,
  type VerifyResult,
} from './types.js';

type TotpMethods = Pick<AuthenticatorService, 'newTotpSecret' | 'confirmTotp' | 'createTotp' | 'verifyTotp'>;

/**
 * Authenticator apps (RFC 6238 TOTP). Verification needs the shared secret itself, so unlike our
 * own secrets it cannot be kept as a hash: it is sealed by the secret box (KMS on AWS), bound to
 * this tenant and user, so the item alone gives nothing away and a sealed secret copied to another
 * user's item does not open. It never leaves the service (`toView` drops it).
 */
export class TotpAuthenticators implements TotpMethods {
  constructor(
    private readonly store: TenantStore,
    private readonly repo: AuthenticatorRepository,
    private readonly opts: { secretBox: SecretBox; rpName: string },
    private readonly clock: Clock,
    private readonly guesses: GuessLimits,
  ) {}

  private context(userId: string) {
    return { tenantId: this.store.tenantId, userId, purpose: 'totp' };
  }

  private seal(userId: string, secret: string): Promise<string> {
    return this.opts.secretBox.seal(secret, this.context(userId));
  }

  /** A stored or pending secret in clear; one written before sealing existed (no prefix) is read as is. */
  private async open(userId: string, stored: string): Promise<string | undefined> {
    if (!isSealed(stored)) return stored;
    try {
      return await this.opts.secretBox.open(stored, this.context(userId));
    } catch (err) {
      // A sealed secret that does not open (tampered, or copied from another user) verifies
      // nothing: the user gets "wrong code", the operator a log line, never a 500.
      if (!(err instanceof SecretBoxError)) throw err;
      logger.error('a TOTP secret does not open', { reason: err.message });
      return undefined;
    }
  }

  private appRecord(sealedSecret: string, lastStep: number, name?: string): AuthenticatorRecord {
    return {
      id: randomUUID(),
      type: 'AUTHENTICATOR_APP',
      name: name?.trim() || DEFAULT_NAMES.AUTHENTICATOR_APP,
      createdAt: this.clock.iso(),
      totp: { secret: sealedSecret, lastStep },
    };
  }

  /**
   * Replay protection: moves lastStep from `last` to `step` in one conditional write (it only ever
   * grows, so "still below last + 1" means "still last"). Of two concurrent uses of one code, or of
   * a code and an older one, exactly one gets true.
   */
  private async advance(userId: string, id: string, last: number, step: number): Promise<boolean> {
    try {
      await this.store.increment(authenticatorKey(userId, id), ['totp', 'lastStep'], {
        by: step - last,
        below: last + 1,
      });
      return true;
    } catch (err) {
      if (!(err instanceof ConditionFailedError)) throw err;
      return false;
    }
  }

  async newTotpSecret(userId: string, accountLabel: string) {
    const secret = newTotpSecretBase32();
    const uri = totpUri(secret, this.opts.rpName, accountLabel);
    const [sealed, qrSvg] = await Promise.all([this.seal(userId, secret), totpQrSvg(uri)]);
    return { secret, sealed, uri, qrSvg };
  }

  async confirmTotp(userId: string, pending: string, code: string): Promise<AuthenticatorRecord | undefined> {
    if (normaliseCode(code) === undefined) return undefined;
    const secret = await this.open(userId, pending);
    if (secret === undefined || !isTotpSecret(secret)) return undefined;
    const step = totpStep(secret, code, this.clock.now());
    if (step === undefined) return undefined;
    // A second confirmation of the same secret (a double submit) enrols nothing new.
    for (const app of await this.repo.ofType(userId, 'AUTHENTICATOR_APP')) {
      if (app.totp && constantTimeEqual((await this.open(userId, app.totp.secret)) ?? '', secret))
        return undefined;
    }
    // The confirming code counts as used: it cannot then sign the user in. A pending secret sealed
    // by `newTotpSecret` is already sealed for this user and is kept as it is.
    const sealed = isSealed(pending) ? pending : await this.seal(userId, secret);
    return this.repo.save(userId, this.appRecord(sealed, step));
  }

  async createTotp(userId: string, accountLabel: string, o: { name?: string } = {}) {
    const secret = newTotpSecretBase32();
    const sealed = await this.seal(userId, secret);
    const authenticator = await this.repo.save(userId, this.appRecord(sealed, 0, o.name));
    return { authenticator, secret, uri: totpUri(secret, this.opts.rpName, accountLabel) };
  }

  async verifyTotp(userId: string, code: string, o: { ip?: string } = {}): Promise<VerifyResult> {
    if (normaliseCode(code) === undefined) return fail('invalid_code');
    const apps = await this.repo.ofType(userId, 'AUTHENTICATOR_APP');
    if (apps.length === 0) return refusedGuess(this.guesses, userId, o.ip, 'not_enrolled');
    // Reserved before anything is compared: a guess that finds no reservation compares nothing.
    const reserved = await this.guesses.reserve(userId, o.ip);
    if (!reserved.ok) return { ok: false, reason: 'locked', retryAfter: reserved.retryAfter };
    const r = await this.compare(userId, apps, code);
    if (r.ok) await this.guesses.succeeded(reserved.reservation);
    return r;
  }

  private async compare(userId: string, apps: AuthenticatorRecord[], code: string): Promise<VerifyResult> {
    let reason: VerifyFailure = 'invalid_code';
    for (const app of apps) {
      // Items written before sealing existed hold the secret in clear and are still read. They are
      // not re-sealed here: replacing the `totp` map would race the conditional lastStep write
      // (the store has no conditional update of one map entry), so that is left to a migration.
      const secret = await this.open(userId, app.totp!.secret);
      const step = secret === undefined ? undefined : totpStep(secret, code, this.clock.now());
      if (step === undefined) continue;
      const last = app.totp!.lastStep ?? 0;
      if (step <= last || !(await this.advance(userId, app.id, last, step))) {
        reason = 'used';
        continue;
      }
      await this.repo.touch(userId, app.id);
      return { ok: true, authenticatorId: app.id };
    }
    return fail(reason);
  }
}
