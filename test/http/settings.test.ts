/**
 * GET and PATCH /v1/settings: defaults, partial updates that leave the rest alone, validation of
 * every field (countries against libphonenumber's numbering plans), the tenant secret, isolation
 * between tenants, audit; and the same settings through the CLI's update-tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { body, docAuth, federatedTenant, JSON_TYPE, type TestTenant } from '../support/flow.js';
import { http, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let t: TestTenant;
let other: TestTenant;

const call = (tenant: TestTenant, method: string, json?: unknown, auth = docAuth(tenant)) =>
  http(`${tenant.origin}/v1/settings`, {
    method,
    headers: { ...JSON_TYPE, authorization: auth },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });

beforeAll(async () => {
  server = await startTestServer();
  t = await federatedTenant(server);
  other = await federatedTenant(server);
});
afterAll(async () => {
  await server.stop();
});

describe('/v1/settings', () => {
  it('starts with sign-up off, an authenticator required and no SMS country', async () => {
    const res = await call(t, 'GET');
    expect(res.status).toBe(200);
    expect(await body(res)).toEqual({
      signUp: 'off',
      signUpAuthenticator: 'required',
      sms: { allowedCountries: [] },
    });
  });

  it('PATCH changes only what it names, dedupes and sorts countries, and is audited', async () => {
    const first = await call(t, 'PATCH', { sms: { allowedCountries: ['US', 'NZ', 'US'] } });
    expect(first.status).toBe(200);
    expect(await body(first)).toEqual({
      signUp: 'off',
      signUpAuthenticator: 'required',
      sms: { allowedCountries: ['NZ', 'US'] },
    });
    const second = await body(await call(t, 'PATCH', { signUp: 'email', signUpAuthenticator: 'optional' }));
    expect(second).toEqual({
      signUp: 'email',
      signUpAuthenticator: 'optional',
      sms: { allowedCountries: ['NZ', 'US'] },
    });
    expect(await body(await call(t, 'GET'))).toEqual(second);
    // Another tenant's settings are its own.
    expect(await body(await call(other, 'GET'))).toMatchObject({
      signUp: 'off',
      sms: { allowedCountries: [] },
    });

    const events = await http(`${t.origin}/v1/audit-events?type=tenant.updated`, {
      headers: { authorization: docAuth(t) },
    });
    const { events: list } = (await body(events)) as { events: { detail: { fields: string[] } }[] };
    expect(list.map((e) => e.detail.fields)).toEqual(
      expect.arrayContaining([['smsAllowedCountries'], ['signUp', 'signUpAuthenticator']]),
    );
  });

  it.each([
    [{}, 'name at least one setting'],
    [{ signUp: 'phone' }, 'signUp'],
    [{ signUpAuthenticator: 'never' }, 'signUpAuthenticator'],
    [{ sms: { allowedCountries: ['us'] } }, 'ISO 3166-1 alpha-2'],
    [{ sms: { allowedCountries: ['XX'] } }, 'numbering plan'],
    [{ sms: { allowedCountries: 'US' } }, 'sms.allowedCountries'],
    [{ sms: {} }, 'sms.allowedCountries'],
    [{ secretHash: 'x' }, 'secretHash'],
    [{ sms: { allowedCountries: ['US'], premium: true } }, 'premium'],
  ])('PATCH %j is a 400 naming the problem, and changes nothing', async (patch, words) => {
    const before = await body(await call(other, 'GET'));
    const res = await call(other, 'PATCH', patch);
    expect(res.status).toBe(400);
    expect(JSON.stringify(await body(res))).toContain(words);
    expect(await body(await call(other, 'GET'))).toEqual(before);
  });

  it('needs the tenant secret, and one tenant cannot change another', async () => {
    expect((await call(t, 'GET', undefined, 'Basic Zm9vOmJhcg==')).status).toBe(401);
    expect((await call(t, 'PATCH', { signUp: 'off' }, docAuth(other))).status).toBe(401);
    expect((await body(await call(t, 'GET'))) as { signUp: string }).toMatchObject({ signUp: 'email' });
  });

  it('is not JSON: 400; not JSON content: 415; too large: 413', async () => {
    const raw = (payload: string, type = 'application/json') =>
      http(`${other.origin}/v1/settings`, {
        method: 'PATCH',
        headers: { 'content-type': type, authorization: docAuth(other) },
        body: payload,
      });
    expect((await raw('{"signUp":')).status).toBe(400);
    expect((await raw('signUp=email', 'application/x-www-form-urlencoded')).status).toBe(415);
    const big = JSON.stringify({ sms: { allowedCountries: Array(100_000).fill('US') } });
    expect((await raw(big)).status).toBe(413);
  });
});
