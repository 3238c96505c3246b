/**
 * User profiles through the management API: PUT / PATCH / DELETE /v1/users/{userId}, validation,
 * login identifiers (one user each, moved atomically), `findUserByLogin`, and what deleting a user
 * takes with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servicesFor } from '../../functions/services.js';
import type { TenantStore } from '../../functions/store/tenant-store.js';
import { findUserByLogin } from '../../functions/users/profile-repository.js';
import {
  JSON_TYPE,
  SIGN_IN,
  body,
  docAuth,
  federatedTenant,
  newUserId,
  type TestTenant,
} from '../support/flow.js';
import { http, startTestServer, type TestServer } from '../support/server.js';
import { client, fullClient, login, oauthError, postForm, rp, rpError } from '../support/relying-party.js';

let server: TestServer;
let t: TestTenant;
let store: TenantStore;
beforeAll(async () => {
  server = await startTestServer();
  t = await federatedTenant(server);
  store = (await servicesFor(t.region)).tenants.scoped(t.id);
});
afterAll(async () => {
  await server.stop();
});

type UserView = {
  userId: string;
  isEnrolled: boolean;
  authenticators: unknown[];
  enrolledVerificationMethods: string[];
  profile?: Record<string, unknown>;
};

function user(method: string, userId: string, payload?: unknown) {
  return http(`${t.origin}/v1/users/${encodeURIComponent(userId)}`, {
    method,
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    ...(payload !== undefined ? { body: JSON.stringify(payload) } : {}),
  });
}

async function put(userId: string, profile: Record<string, unknown>, status = 201): Promise<UserView> {
  const res = await user('PUT', userId, profile);
  const json = await body<UserView>(res);
  expect(res.status, JSON.stringify(json)).toBe(status);
  return json;
}

const unique = () => Math.random().toString(36).slice(2, 10);

describe('PUT, GET and PATCH /v1/users/{userId}', () => {
  it('creates a profile (201), shows it in GET beside the enrollment view, and replaces it (200)', async () => {
    const userId = newUserId();
    const created = await put(userId, {
      email: `a-${unique()}@example.com`,
      name: 'A',
      custom_attributes: { plan: 'pro', seats: 3 },
    });
    expect(created).toMatchObject({
      userId,
      isEnrolled: false,
      enrolledVerificationMethods: [],
      authenticators: [],
    });
    expect(created.profile).toMatchObject({ name: 'A', custom_attributes: { plan: 'pro', seats: 3 } });
    expect(typeof created.profile!.created_at).toBe('string');
    const got = await body<UserView>(await user('GET', userId));
    expect(got.profile).toEqual(created.profile);
    expect(got.profile).not.toHaveProperty('version');

    const replaced = await put(userId, { given_name: 'B' }, 200);
    expect(replaced.profile).toMatchObject({ given_name: 'B', created_at: created.profile!.created_at });
    expect(replaced.profile).not.toHaveProperty('name');
    expect(replaced.profile).not.toHaveProperty('email');
  });

  it('answers GET without a profile as before (no profile field)', async () => {
    const got = await body<UserView>(await user('GET', newUserId()));
    expect(Object.keys(got).sort()).toEqual([
      'authenticators',
      'enrolledVerificationMethods',
      'isEnrolled',
      'userId',
    ]);
  });

  it('PATCH merges (RFC 7396): null removes, address and custom_attributes merge key by key', async () => {
    const userId = newUserId();
    await put(userId, {
      name: 'N',
      nickname: 'nick',
      address: { locality: 'Paris', country: 'FR' },
      custom_attributes: { a: 1, b: 2 },
    });
    const res = await user('PATCH', userId, {
      nickname: null,
      address: { locality: 'Lyon' },
      custom_attributes: { a: null, c: true },
    });
    const json = await body<UserView>(res);
    expect(res.status, JSON.stringify(json)).toBe(200);
    expect(json.profile).toMatchObject({
      name: 'N',
      address: { locality: 'Lyon', country: 'FR' },
      custom_attributes: { b: 2, c: true },
    });
    expect(json.profile).not.toHaveProperty('nickname');
  });

  it('PATCH answers 404 when the user has no profile, and 400 to an invalid merged result', async () => {
    expect((await user('PATCH', newUserId(), { name: 'x' })).status).toBe(404);
    const userId = newUserId();
    await put(userId, { name: 'N' });
    expect((await user('PATCH', userId, { email: 'nope' })).status).toBe(400);
    expect((await user('PATCH', userId, { created_at: '2020-01-01T00:00:00Z' })).status).toBe(400);
  });

  it.each([
    ['an invalid email', { email: 'not-an-email' }],
    ['a phone number that is not E.164', { phone_number: '020 7946 0000' }],
    ['a picture that is not a URL', { picture: 'ada.png' }],
    ['a javascript: website', { website: 'javascript:alert(1)' }],
    ['a birthdate that does not exist', { birthdate: '2023-02-30' }],
    ['a birthdate in another format', { birthdate: '10/12/1815' }],
    ['an unknown time zone', { zoneinfo: 'Mars/Olympus' }],
    ['a malformed locale', { locale: 'not a locale!' }],
    ['a username with @', { username: 'a@b' }],
    ['an unknown field', { favourite_colour: 'blue' }],
    ['a nested custom attribute', { custom_attributes: { a: { b: 1 } } }],
    ['an address with unknown fields', { address: { planet: 'Earth' } }],
  ])('PUT answers 400 to %s', async (_, profile) => {
    const res = await user('PUT', newUserId(), profile);
    const json = await body<{ error: string; issues: unknown[] }>(res);
    expect(res.status, JSON.stringify(json)).toBe(400);
    expect(json.error).toBe('invalid_request');
    expect(json.issues.length).toBeGreaterThan(0);
  });

  it('accepts the OIDC date forms: YYYY, and 0000-MM-DD for a withheld year', async () => {
    await put(newUserId(), { birthdate: '1815' });
    await put(newUserId(), { birthdate: '0000-12-10' });
  });

  it('answers 401 without the tenant secret', async () => {
    const res = await http(`${t.origin}/v1/users/u`, { method: 'PUT', headers: JSON_TYPE, body: '{}' });
    expect(res.status).toBe(401);
  });
});

describe('login identifiers', () => {
  it('refuses an email another user holds (any case) with 409 login_taken, and writes nothing', async () => {
    const email = `taken-${unique()}@example.com`;
    const a = newUserId();
    const b = newUserId();
    await put(a, { email });
    const res = await user('PUT', b, { email: email.toUpperCase(), name: 'B' });
    const json = await body<{ error: string; error_description: string; field: string }>(res);
    expect(res.status).toBe(409);
    expect(json).toMatchObject({ error: 'login_taken', field: 'email' });
    expect(json.error_description).toContain('already used by another user');
    expect((await body<UserView>(await user('GET', b))).profile).toBeUndefined();
  });

  it('refuses a username another user holds', async () => {
    const username = `user-${unique()}`;
    await put(newUserId(), { username });
    const res = await user('PUT', newUserId(), { username: username.toUpperCase() });
    expect(res.status).toBe(409);
  });

  it('finds a user by email or username, case-insensitively', async () => {
    const userId = newUserId();
    const username = `Finder-${unique()}`;
    const email = `Finder-${unique()}@Example.com`;
    await put(userId, { username, email });
    expect((await findUserByLogin(store, email.toLowerCase()))?.userId).toBe(userId);
    expect((await findUserByLogin(store, ` ${username.toUpperCase()} `))?.userId).toBe(userId);
    expect((await findUserByLogin(store, username))?.profile.email).toBe(email);
    expect(await findUserByLogin(store, `nobody-${unique()}@example.com`)).toBeUndefined();
  });

  it('moves identifiers on change: the old email is freed for others, the new one is taken', async () => {
    const a = newUserId();
    const old = `old-${unique()}@example.com`;
    const next = `new-${unique()}@example.com`;
    await put(a, { email: old, username: `mover-${unique()}` });
    const patched = await user('PATCH', a, { email: next, username: null });
    expect(patched.status).toBe(200);
    expect(await findUserByLogin(store, old)).toBeUndefined();
    expect((await findUserByLogin(store, next))?.userId).toBe(a);
    await put(newUserId(), { email: old });
    expect((await user('PUT', newUserId(), { email: next })).status).toBe(409);
  });

  it('of two users claiming one email at the same time, at most one gets it, and the index agrees', async () => {
    const email = `race-${unique()}@example.com`;
    const ids = [newUserId(), newUserId()];
    const results = await Promise.all(ids.map((id) => user('PUT', id, { email })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201).length).toBeLessThanOrEqual(1);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    const winner = ids[statuses.indexOf(201)];
    expect((await findUserByLogin(store, email))?.userId).toBe(winner);
  });

  it('keeps an unchanged identifier when other fields change', async () => {
    const userId = newUserId();
    const email = `same-${unique()}@example.com`;
    await put(userId, { email, name: 'One' });
    await put(userId, { email, name: 'Two' }, 200);
    expect((await findUserByLogin(store, email))?.profile.name).toBe('Two');
  });
});

describe('DELETE /v1/users/{userId}', () => {
  it('removes the profile, login identifiers, authenticators and outcome records, and revokes tokens', async () => {
    const app = await fullClient(t);
    const config = await rp(t, app.client_id, client.ClientSecretBasic(app.client_secret!));
    const userId = newUserId();
    const email = `gone-${unique()}@example.com`;
    await put(userId, { email, username: `gone-${unique()}` });
    const enrolled = await http(`${t.origin}/v1/users/${userId}/authenticators`, {
      method: 'POST',
      headers: { ...JSON_TYPE, authorization: docAuth(t) },
      body: JSON.stringify({ type: 'EMAIL_OTP', email }),
    });
    expect(enrolled.status, await enrolled.clone().text()).toBe(201);
    const { tokens } = await login(t, config, 'openid email offline_access', userId);
    const idempotencyKey = tokens.claims()!.idempotency_key as string;
    const outcome = await http(`${t.origin}/v1/users/${userId}/actions/${SIGN_IN}/${idempotencyKey}`, {
      headers: { authorization: docAuth(t) },
    });
    expect(outcome.status).toBe(200);
    expect((await body<UserView>(await user('GET', userId))).isEnrolled).toBe(true);

    expect((await user('DELETE', userId)).status).toBe(204);

    const after = await body<UserView>(await user('GET', userId));
    expect(after).toEqual({ userId, isEnrolled: false, enrolledVerificationMethods: [], authenticators: [] });
    expect(await findUserByLogin(store, email)).toBeUndefined();
    const gone = await http(`${t.origin}/v1/users/${userId}/actions/${SIGN_IN}/${idempotencyKey}`, {
      headers: { authorization: docAuth(t) },
    });
    expect(gone.status).toBe(404);
    expect(await store.query(`user#${userId}`)).toEqual([]);
    // Tokens issued before the deletion are dead.
    expect(await rpError(client.fetchUserInfo(config, tokens.access_token, userId))).toMatchObject({
      error: 'invalid_token',
    });
    const res = await postForm(
      t,
      '/token',
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! },
      {
        authorization: `Basic ${Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64')}`,
      },
    );
    expect(await oauthError(res)).toMatchObject({ status: 400, error: 'invalid_grant' });
    // The email is free again.
    await put(newUserId(), { email });
  });

  it('is idempotent: deleting a user with nothing answers 204', async () => {
    expect((await user('DELETE', newUserId())).status).toBe(204);
  });
});
