/**
 * Online code guessing against the hosted challenge, over HTTP the way an attacker's script
 * would do it: many interactions opened for one user through /init-auth, guesses from many
 * source addresses (the local server takes the address from the socket, so each address is a
 * connection bound to its own loopback address), and 30 parallel guesses on one interaction.
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import * as OTPAuth from 'otpauth';
import { Agent, fetch as undiciFetch, type Response } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IP_GUESS_LIMIT,
  USER_GUESS_LIMITS,
  userGuessKey,
} from '../../functions/authenticators/guess-limits.js';
import { createAuthenticatorService } from '../../functions/authenticators/service.js';
import { servicesFor } from '../../functions/services.js';
import type { TenantStore } from '../../functions/store/tenant-store.js';
import {
  APP_REDIRECT,
  decodeEntities,
  federatedTenant,
  initAuth,
  newUserId,
  type TestTenant,
} from '../support/flow.js';
import { http, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let t: TestTenant;
let store: TenantStore;

beforeAll(async () => {
  server = await startTestServer();
  t = await federatedTenant(server);
  const res = await http(`${t.origin}/v1/actions/challenge`, {
    method: 'PUT',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${t.secret}:`).toString('base64')}`,
    },
    body: JSON.stringify({ defaultOutcome: 'CHALLENGE', maxAttempts: 5 }),
  });
  expect(res.status).toBe(200);
  store = (await servicesFor('us')).tenants.scoped(t.id);
});
afterAll(async () => {
  await server.stop();
  await Promise.all([...agents.values()].map((a) => a.close()));
});

/** A connection pool bound to one loopback source address (the whole of 127/8 is loopback on Linux). */
const agents = new Map<string, Agent>();
function from(address: string): Agent {
  let agent = agents.get(address);
  if (!agent) {
    // undici does not pass `localAddress` on, so the socket is made here, bound to the address.
    agent = new Agent({
      connect: (opts, cb) => {
        const socket = connect({ host: '127.0.0.1', port: Number(opts.port), localAddress: address });
        socket.once('connect', () => cb(null, socket));
        socket.once('error', (err) => cb(err, null));
      },
    });
    agents.set(address, agent);
  }
  return agent;
}
let nextAddress = 10;
/** A source address no other test uses. */
const freshAddress = () => {
  const n = nextAddress++;
  return `127.0.${Math.floor(n / 250)}.${(n % 250) + 2}`;
};

async function totpUser(): Promise<{ userId: string; code: () => string }> {
  const userId = newUserId();
  const services = await servicesFor('us');
  const auth = createAuthenticatorService(store, {
    mailer: services.mailer,
    secretBox: services.secretBox,
    rpId: new URL(t.origin).hostname,
    rpName: t.slug,
    origin: t.origin,
  });
  const { secret } = await auth.createTotp(userId, `${userId}@example.com`);
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30 });
  return { userId, code: () => totp.generate() };
}
const wrongFor = (code: string) => String((Number(code) + 500_000) % 1_000_000).padStart(6, '0');

interface Challenge {
  cookie: string;
  csrf: string;
  url: string;
}

/** A new interaction for the user, opened as the tenant's backend opens them (any number of them). */
async function challenge(userId: string, language = 'en'): Promise<Challenge> {
  // Distinct custom data: the same call within 30 s is a B2C retry and replaces the earlier token.
  const init = await initAuth(t, { userId, action: 'challenge', custom: { attempt: randomUUID() } });
  const res = await http(
    `${t.origin}/oidc/auth?${new URLSearchParams({
      client_id: t.id,
      token: init.token,
      redirect_uri: APP_REDIRECT,
      response_type: 'code',
      scope: 'openid',
      state: 'st',
    })}`,
    { headers: { 'accept-language': language } },
  );
  expect(res.status, res.headers.get('location') ?? '').toBe(303);
  const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
  const url = `${t.origin}${res.headers.get('location')!}`;
  const page = await http(url, { headers: { cookie } });
  const html = await page.text();
  const csrf = decodeEntities(/name="csrf" value="([^"]+)"/.exec(html)![1]!);
  return { cookie, csrf, url };
}

/** One guess, from a source address. */
function guess(c: Challenge, code: string, address = '127.0.0.1'): Promise<Response> {
  return undiciFetch(`${c.url}/totp`, {
    method: 'POST',
    redirect: 'manual',
    dispatcher: from(address),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: c.cookie },
    body: new URLSearchParams({ csrf: c.csrf, code }).toString(),
  });
}

const failuresOf = async (userId: string) =>
  (await store.get<{ failures: number }>(userGuessKey(userId)))?.failures ?? 0;

/** A code in the authorization response: the flow ended with a code for the client. */
const codeIn = (res: Response) => new URL(res.headers.get('location') ?? 'x:/').searchParams.get('code');

/** Locks a user: USER_GUESS_LIMITS.free wrong guesses over fresh interactions, 4 per interaction. */
async function lock(user: { userId: string; code: () => string }): Promise<void> {
  let c: Challenge | undefined;
  for (let i = 0; i < USER_GUESS_LIMITS.free; i++) {
    if (i % 4 === 0) c = await challenge(user.userId);
    expect((await guess(c!, wrongFor(user.code()), freshAddress())).status).toBe(400);
  }
  expect(await failuresOf(user.userId)).toBe(USER_GUESS_LIMITS.free);
}

describe('one interaction under 30 parallel guesses', () => {
  it('compares at most its 5 attempts and never answers 5xx', async () => {
    const user = await totpUser();
    const c = await challenge(user.userId);
    const results = await Promise.all(
      Array.from({ length: 30 }, () => guess(c, wrongFor(user.code()), freshAddress())),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    // Each comparison was counted for the user: no more than the interaction's attempts.
    expect(await failuresOf(user.userId)).toBeLessThanOrEqual(5);
    expect(await failuresOf(user.userId)).toBeGreaterThan(0);
  });

  it('the right code racing 29 wrong ones gets a code, the ended page, or a wrong-code page: never 5xx', async () => {
    for (let round = 0; round < 3; round++) {
      const user = await totpUser();
      const c = await challenge(user.userId);
      const codes = Array.from({ length: 30 }, (_, i) => (i === 15 ? user.code() : wrongFor(user.code())));
      const results = await Promise.all(codes.map((code) => guess(c, code, freshAddress())));
      for (const r of results) {
        const text = await r.text();
        expect(r.status, text.slice(0, 300)).toBeLessThan(500);
        expect([302, 303, 400, 429]).toContain(r.status);
      }
      // The interaction ended exactly once.
      expect(results.filter((r) => r.status === 302 || r.status === 303).length).toBeLessThanOrEqual(1);
      expect(await failuresOf(user.userId)).toBeLessThanOrEqual(5);
    }
  });
});

describe('guessing across interactions and source addresses', () => {
  it('after 10 failures over many interactions and addresses even the right code is refused, with 429', async () => {
    const user = await totpUser();
    await lock(user);
    // More interactions, more addresses, in parallel: nothing more is compared.
    const more = await Promise.all(Array.from({ length: 6 }, () => challenge(user.userId)));
    const results = await Promise.all(more.map((c) => guess(c, wrongFor(user.code()), freshAddress())));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(429));
    expect(await failuresOf(user.userId)).toBe(USER_GUESS_LIMITS.free);
    const right = await guess(await challenge(user.userId), user.code(), freshAddress());
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    const html = await right.text();
    expect(html).toContain('Too many wrong codes');
    expect(codeIn(right)).toBeNull();
  });

  it('says so in the user’s language', async () => {
    const user = await totpUser();
    await lock(user);
    const res = await guess(await challenge(user.userId, 'es'), user.code(), freshAddress());
    expect(res.status).toBe(429);
    const html = decodeEntities(await res.text());
    expect(html).toContain('Demasiados códigos incorrectos');
    expect(html).toContain('ni siquiera el correcto');
  });

  it('a success resets the count', async () => {
    const user = await totpUser();
    const c = await challenge(user.userId);
    const other = await challenge(user.userId);
    for (let i = 0; i < 4; i++)
      expect((await guess(c, wrongFor(user.code()), freshAddress())).status).toBe(400);
    for (let i = 0; i < 4; i++)
      expect((await guess(other, wrongFor(user.code()), freshAddress())).status).toBe(400);
    expect(await failuresOf(user.userId)).toBe(8);
    const right = await guess(await challenge(user.userId), user.code(), freshAddress());
    expect(right.status).toBe(302);
    expect(codeIn(right)).toBeTruthy();
    expect(await failuresOf(user.userId)).toBe(0);
    // 8 + 9 would have passed the back-off: the success forgot the first 8.
    for (const ix of await Promise.all([
      challenge(user.userId),
      challenge(user.userId),
      challenge(user.userId),
    ]))
      for (let i = 0; i < 3; i++)
        expect((await guess(ix, wrongFor(user.code()), freshAddress())).status).toBe(400);
    expect(await failuresOf(user.userId)).toBe(9);
  });

  it(`one source address gets ${IP_GUESS_LIMIT.max} failed verifications across users, then 429`, async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => totpUser()));
    const address = freshAddress();
    // 6 users × 9 guesses (below each user's own limit), users in parallel: 54 guesses.
    const perUser = await Promise.all(
      users.map(async (u) => {
        const statuses: number[] = [];
        let c: Challenge | undefined;
        for (let i = 0; i < 9; i++) {
          if (i % 4 === 0) c = await challenge(u.userId);
          statuses.push((await guess(c!, wrongFor(u.code()), address)).status);
        }
        return statuses;
      }),
    );
    const statuses = perUser.flat();
    expect(statuses.filter((s) => s === 400)).toHaveLength(IP_GUESS_LIMIT.max);
    expect(statuses.filter((s) => s === 429)).toHaveLength(54 - IP_GUESS_LIMIT.max);
    // Another address is not affected.
    const u = users[0]!;
    expect((await guess(await challenge(u.userId), wrongFor(u.code()), freshAddress())).status).toBe(400);
  });
});
