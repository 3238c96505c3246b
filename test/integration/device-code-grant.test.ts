import { beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_CODE_GRANT, type Client } from '../../functions/clients/client.js';
import { DEFAULT_INTERVAL, SLOW_DOWN_STEP } from '../../functions/oidc/decoupled-grant.js';
import { deviceAuthorization, deviceCodeGrant, findByUserCode } from '../../functions/oidc/device.js';
import { revokeUser } from '../../functions/oidc/revocations.js';
import { expectProtocolError, grantFixture, type GrantFixture } from '../support/grants.js';

let f: GrantFixture;
let tv: Client;

beforeAll(async () => {
  f = await grantFixture('device-grant');
  // A public client, as a TV app is: it sends its client_id only (RFC 8628 §3.1).
  tv = f.client({
    client_type: 'public',
    token_endpoint_auth_method: 'none',
    require_pkce: true,
    grant_types: [DEVICE_CODE_GRANT, 'refresh_token'],
  });
});

/** A device authorization; `userCode` is what the device shows the user. */
const authorize = (scope = 'openid profile', now = Date.now()) =>
  deviceAuthorization({ scope }, tv, { store: f.store, issuer: f.issuer }, now);

const poll = (deviceCode: string, now: number, client = tv) =>
  deviceCodeGrant({ form: { device_code: deviceCode }, resources: [] }, client, { ...f.deps, now });

/** The user signs in on another device and approves, as the hosted pages record it. */
async function approve(userCode: string, userId: string) {
  const found = await findByUserCode(f.store, userCode);
  expect(found).toBeDefined();
  await f.store.update(found!.key, { status: 'approved', userId, authTime: Math.floor(Date.now() / 1000) });
  return found!.key;
}

describe('device code grant (RFC 8628 §3.4, §3.5)', () => {
  it('answers authorization_pending, then slow_down for a poll that comes too soon', async () => {
    const t0 = Date.now();
    const auth = await authorize();
    expect(auth).toMatchObject({ interval: DEFAULT_INTERVAL, verification_uri: `${f.issuer}/device` });
    await expectProtocolError(poll(auth.device_code, t0), 'authorization_pending');
    await expectProtocolError(poll(auth.device_code, t0 + 1000), 'slow_down', /wait at least 10 seconds/);
    // The interval rose by 5 s for good: 6 s later is still too soon, 11 s later is fine.
    await expectProtocolError(poll(auth.device_code, t0 + 7000), 'slow_down', /wait at least 15 seconds/);
    const later = t0 + 7000 + (DEFAULT_INTERVAL + 2 * SLOW_DOWN_STEP) * 1000;
    await expectProtocolError(poll(auth.device_code, later), 'authorization_pending');
  });

  it('issues the tokens of the approving user once; a replay is invalid_grant', async () => {
    const auth = await authorize('openid offline_access');
    await approve(auth.user_code, 'user-tv');
    const tokens = await poll(auth.device_code, Date.now());
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(await f.activeClaims(tokens.access_token)).toMatchObject({
      sub: 'user-tv',
      client_id: tv.client_id,
    });
    await expectProtocolError(poll(auth.device_code, Date.now()), 'invalid_grant', /already been used/);
  });

  it('gives nothing for an approval made before the user was deleted; the grant itself stays unused', async () => {
    const auth = await authorize('openid offline_access');
    const key = await approve(auth.user_code, 'user-deleted-after-approval');
    await revokeUser(f.store, 'user-deleted-after-approval');
    await expectProtocolError(poll(auth.device_code, Date.now()), 'invalid_grant', /no longer valid/);
    const stored = await f.store.get<{ status: string; consumedAt?: number }>(key);
    expect(stored).toMatchObject({ status: 'approved' });
    expect(stored?.consumedAt).toBeUndefined();
  });

  it("refuses another client's device code", async () => {
    const auth = await authorize();
    const other = f.client({ grant_types: [DEVICE_CODE_GRANT] });
    await expectProtocolError(poll(auth.device_code, Date.now(), other), 'invalid_grant', /another client/);
  });

  it('answers expired_token after the deadline, access_denied after a denial', async () => {
    const expired = await authorize();
    await expectProtocolError(
      poll(expired.device_code, Date.now() + (expired.expires_in + 1) * 1000),
      'expired_token',
    );
    const denied = await authorize();
    const found = await findByUserCode(f.store, denied.user_code);
    await f.store.update(found!.key, { status: 'denied', error: 'access_denied' });
    await expectProtocolError(poll(denied.device_code, Date.now()), 'access_denied');
  });

  it('refuses an unknown device code and a missing one', async () => {
    await expectProtocolError(
      poll('not-a-device-code', Date.now()),
      'invalid_grant',
      /invalid or has expired/,
    );
    await expectProtocolError(
      deviceCodeGrant({ form: {}, resources: [] }, tv, f.deps),
      'invalid_request',
      /device_code is required/,
    );
  });

  it('refuses a scope beyond the client at the device authorization endpoint', async () => {
    await expectProtocolError(
      authorize('openid admin'),
      'invalid_scope',
      /not allowed for this client: admin/,
    );
  });
});
