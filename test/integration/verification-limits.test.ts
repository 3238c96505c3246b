/**
 * Online guessing of authentication codes, attacked the way a script would: bursts of 30 parallel
 * guesses, a fresh source address for every guess, hours of patient guessing on a moving clock,
 * and both code methods of one user. The service runs on DynamoDB Local; only its clock is moved.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  backoffSeconds,
  IP_GUESS_LIMIT,
  USER_GUESS_LIMITS,
  userGuessKey,
} from '../../functions/authenticators/guess-limits.js';
import { createAuthenticatorService } from '../../functions/authenticators/service.js';
import { totpCode } from '../../functions/authenticators/totp.js';
import type { AuthenticatorService, VerifyResult } from '../../functions/authenticators/types.js';
import { LocalSecretBox } from '../../functions/crypto/local-secret-box.js';
import { LocalOutbox } from '../../functions/mail/local-outbox.js';
import { TenantStore } from '../../functions/store/tenant-store.js';
import { freshStore } from '../support/dynamo.js';

let store: TenantStore;
let outbox: LocalOutbox;
/** The service's clock (epoch ms), moved forward by the tests; never behind real time (TTL checks use it). */
let clock: number;
let svc: AuthenticatorService;

beforeAll(async () => {
  store = new TenantStore(await freshStore('guess'), `tenant-${randomBytes(4).toString('hex')}`);
  outbox = new LocalOutbox({ print: () => {} });
  clock = Math.floor(Date.now() / 30_000) * 30_000 + 15_000;
  svc = createAuthenticatorService(store, {
    mailer: outbox,
    secretBox: LocalSecretBox.open(mkdtempSync(join(tmpdir(), 'guess-box-')), 'us'),
    rpId: 'demo.us.localhost',
    rpName: 'Demo Corp',
    origin: 'http://demo.us.localhost:3000',
    now: () => clock,
  });
});

/** An address nobody else uses: the attacker has as many as it likes. */
const freshIp = () => `198.51.100.${Math.floor(Math.random() * 250)}#${randomUUID()}`;
const wrongFor = (code: string) => String((Number(code) + 500_000) % 1_000_000).padStart(6, '0');
const compared = (r: VerifyResult) => r.ok || r.reason !== 'locked';

async function totpUser(): Promise<{ userId: string; code: () => string }> {
  const userId = `user-${randomUUID()}`;
  const { secret } = await svc.createTotp(userId, userId);
  return { userId, code: () => totpCode(secret, clock) };
}

/** The largest number of times in any window of `seconds` (times in epoch seconds). */
function busiestWindow(times: number[], seconds: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= seconds) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

describe('wrong guesses per user', () => {
  it('no more than 30 wrong guesses per user per hour are ever compared, whatever the addresses', async () => {
    const u = await totpUser();
    const comparedAt: number[] = [];
    // Three hours of guessing: a burst of 30 parallel guesses every minute for the first five
    // minutes, then three parallel guesses a minute, each from its own address.
    for (let minute = 0; minute < 180; minute++) {
      const burst = minute < 5 ? 30 : 3;
      const results = await Promise.all(
        Array.from({ length: burst }, () => svc.verifyTotp(u.userId, wrongFor(u.code()), { ip: freshIp() })),
      );
      expect(results.every((r) => !r.ok)).toBe(true);
      for (const r of results) if (compared(r)) comparedAt.push(Math.floor(clock / 1000));
      clock += 60_000;
    }
    expect(busiestWindow(comparedAt, 3600)).toBeLessThanOrEqual(30);
    // The free guesses, then one per back-off: 1, 2, 4 … minutes, then one an hour.
    expect(comparedAt.length).toBeGreaterThanOrEqual(USER_GUESS_LIMITS.free);
    expect(comparedAt.length).toBeLessThanOrEqual(USER_GUESS_LIMITS.free + 8);
  });

  it('thirty parallel guesses compare at most the free ones; then even the right code is refused', async () => {
    const u = await totpUser();
    const results = await Promise.all(
      Array.from({ length: 30 }, () => svc.verifyTotp(u.userId, wrongFor(u.code()), { ip: freshIp() })),
    );
    expect(results.filter(compared).length).toBeLessThanOrEqual(USER_GUESS_LIMITS.free);
    // Whatever the burst got through, sequential guesses reach the back-off.
    while (((await store.get<{ failures: number }>(userGuessKey(u.userId)))?.failures ?? 0) < 10)
      await svc.verifyTotp(u.userId, wrongFor(u.code()), { ip: freshIp() });
    const right = await svc.verifyTotp(u.userId, u.code(), { ip: freshIp() });
    expect(right).toMatchObject({ ok: false, reason: 'locked' });
  });

  it('backs off exponentially after 10 failures, refusing the right code, and a success resets', async () => {
    const u = await totpUser();
    for (let i = 0; i < 10; i++)
      expect(await svc.verifyTotp(u.userId, wrongFor(u.code()), { ip: freshIp() })).toEqual({
        ok: false,
        reason: 'invalid_code',
      });
    // The 10th failure started a 1-minute back-off: the right code is not even compared.
    const locked = await svc.verifyTotp(u.userId, u.code(), { ip: freshIp() });
    expect(locked).toEqual({ ok: false, reason: 'locked', retryAfter: 60 });
    clock += 61_000;
    // One guess, wrong: the next back-off is 2 minutes.
    expect(await svc.verifyTotp(u.userId, wrongFor(u.code()), { ip: freshIp() })).toMatchObject({
      reason: 'invalid_code',
    });
    expect(await svc.verifyTotp(u.userId, u.code(), { ip: freshIp() })).toEqual({
      ok: false,
      reason: 'locked',
      retryAfter: 120,
    });
    clock += 121_000;
    expect(await svc.verifyTotp(u.userId, u.code(), { ip: freshIp() })).toMatchObject({ ok: true });
    // The success forgot the failures: ten wrong guesses are compared again before any back-off.
    expect(await store.get(userGuessKey(u.userId))).toBeUndefined();
    clock += 30_000;
    for (let i = 0; i < 9; i++)
      expect(await svc.verifyTotp(u.userId, wrongFor(u.code()), { ip: freshIp() })).toMatchObject({
        reason: 'invalid_code',
      });
    expect(await svc.verifyTotp(u.userId, u.code(), { ip: freshIp() })).toMatchObject({ ok: true });
  });

  it('the back-off doubles up to an hour', () => {
    expect([9, 10, 11, 12, 15, 16, 40].map(backoffSeconds)).toEqual([0, 60, 120, 240, 1920, 3600, 3600]);
  });

  it('TOTP and emailed codes share one count', async () => {
    const u = await totpUser();
    await svc.enrollEmail(u.userId, `${randomUUID()}@example.com`);
    for (let i = 0; i < 5; i++)
      expect(await svc.verifyTotp(u.userId, wrongFor(u.code()), { ip: freshIp() })).toMatchObject({
        reason: 'invalid_code',
      });
    // Two emailed codes (each dies after its own 5 attempts): 3 and 2 wrong guesses.
    for (const tries of [3, 2]) {
      const key = `ix-${randomUUID()}`;
      const sent = await svc.sendEmailCode(u.userId, { key, ip: freshIp(), tenantName: 'Demo' });
      expect(sent.sent).toBe(true);
      for (let i = 0; i < tries; i++)
        expect(await svc.verifyEmailCode(u.userId, { key, code: '000000', ip: freshIp() })).toMatchObject({
          reason: 'invalid_code',
        });
    }
    // 5 + 3 + 2 = 10 failures across both methods: the right TOTP code now waits.
    expect(await svc.verifyTotp(u.userId, u.code(), { ip: freshIp() })).toMatchObject({ reason: 'locked' });
  });
});

describe('wrong guesses per source address', () => {
  it(`one address gets ${IP_GUESS_LIMIT.max} wrong guesses per window across all users, even in parallel`, async () => {
    const users = await Promise.all(Array.from({ length: 60 }, () => totpUser()));
    const ip = freshIp();
    const results = await Promise.all(users.map((u) => svc.verifyTotp(u.userId, wrongFor(u.code()), { ip })));
    expect(results.filter(compared)).toHaveLength(IP_GUESS_LIMIT.max);
    expect(results.filter((r) => !compared(r))).toHaveLength(60 - IP_GUESS_LIMIT.max);
    // The users it was refused for lost nothing; another address is not affected.
    const refused = users.filter((_, i) => !compared(results[i]!));
    expect(await svc.verifyTotp(refused[0]!.userId, refused[0]!.code(), { ip: freshIp() })).toMatchObject({
      ok: true,
    });
  });

  it('successes do not count against the address', async () => {
    const users = await Promise.all(Array.from({ length: 5 }, () => totpUser()));
    const ip = freshIp();
    clock =
      Math.ceil(clock / (IP_GUESS_LIMIT.windowSeconds * 1000)) * IP_GUESS_LIMIT.windowSeconds * 1000 + 15_000;
    for (const u of users)
      expect(await svc.verifyTotp(u.userId, u.code(), { ip })).toMatchObject({ ok: true });
    let wrong = 0;
    for (let i = 0; wrong < IP_GUESS_LIMIT.max; i++) {
      const u = users[i % users.length]!;
      const r = await svc.verifyTotp(u.userId, wrongFor(u.code()), { ip });
      expect(r).toMatchObject({ reason: 'invalid_code' });
      wrong++;
      if (i % users.length === users.length - 1 && wrong < IP_GUESS_LIMIT.max) {
        // Keep every user below their own back-off with a success (which the address does not pay for).
        clock += 30_000;
        for (const v of users)
          expect(await svc.verifyTotp(v.userId, v.code(), { ip })).toMatchObject({ ok: true });
      }
    }
    // The address has spent its failures: now nothing is compared, the right code included.
    const u = users[0]!;
    expect(await svc.verifyTotp(u.userId, wrongFor(u.code()), { ip })).toMatchObject({ reason: 'locked' });
    expect(await svc.verifyTotp(u.userId, u.code(), { ip })).toMatchObject({ reason: 'locked' });
  });
});
