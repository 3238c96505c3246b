import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CIBA_GRANT, type Client } from '../../functions/clients/client.js';
import { LocalOutbox } from '../../functions/mail/local-outbox.js';
import { backchannelAuthentication, cibaGrant, findByLinkId } from '../../functions/oidc/ciba.js';
import { ProfileRepository } from '../../functions/users/profile-repository.js';
import { expectProtocolError, grantFixture, type GrantFixture } from '../support/grants.js';

let f: GrantFixture;
let bank: Client;
let outbox: LocalOutbox;
let userId: string;
let email: string;

beforeAll(async () => {
  f = await grantFixture('ciba-grant');
  bank = f.client({ grant_types: [CIBA_GRANT] });
  outbox = new LocalOutbox({ print: () => {} });
  userId = `user-${randomUUID()}`;
  email = `${userId}@example.test`;
  await new ProfileRepository(f.store).put(userId, { email });
});

/** A CIBA request with `channel: link`: the client gets the link to show the user. */
async function request(form: Record<string, string> = {}) {
  const res = await backchannelAuthentication(
    { scope: 'openid', login_hint: email, request_context: JSON.stringify({ channel: 'link' }), ...form },
    bank,
    { store: f.store, origin: 'https://ciba-grant.us.example.test', mailer: outbox },
  );
  const linkId = new URL(res.link!).searchParams.get('id');
  return { ...res, linkId };
}

const poll = (authReqId: string, now: number, client = bank) =>
  cibaGrant({ form: { auth_req_id: authReqId }, resources: [] }, client, { ...f.deps, now });

async function decide(linkId: string | null, set: Record<string, unknown>) {
  const found = await findByLinkId(f.store, linkId);
  expect(found?.grant.expectedUserId).toBe(userId);
  await f.store.update(found!.key, set);
}

describe('CIBA grant, poll mode (CIBA Core §10.1, §11)', () => {
  it('answers authorization_pending, then slow_down for a poll that comes too soon', async () => {
    const t0 = Date.now();
    const { auth_req_id } = await request();
    await expectProtocolError(poll(auth_req_id, t0), 'authorization_pending');
    await expectProtocolError(poll(auth_req_id, t0 + 500), 'slow_down', /wait at least 10 seconds/);
  });

  it('issues tokens for the named user once; a replay is invalid_grant', async () => {
    const { auth_req_id, linkId } = await request();
    await decide(linkId, { status: 'approved', userId, authTime: Math.floor(Date.now() / 1000) });
    const tokens = await poll(auth_req_id, Date.now());
    expect(tokens.id_token).toEqual(expect.any(String));
    expect(await f.activeClaims(tokens.access_token)).toMatchObject({
      sub: userId,
      client_id: bank.client_id,
    });
    await expectProtocolError(poll(auth_req_id, Date.now()), 'invalid_grant', /already been used/);
  });

  it('refuses an approval by someone other than the named user', async () => {
    const { auth_req_id, linkId } = await request();
    await decide(linkId, {
      status: 'approved',
      userId: 'someone-else',
      authTime: Math.floor(Date.now() / 1000),
    });
    await expectProtocolError(poll(auth_req_id, Date.now()), 'invalid_grant', /another user/);
  });

  it("refuses another client's auth_req_id", async () => {
    const { auth_req_id } = await request();
    const other = f.client({ grant_types: [CIBA_GRANT] });
    await expectProtocolError(poll(auth_req_id, Date.now(), other), 'invalid_grant', /another client/);
  });

  it('answers expired_token after requested_expiry, access_denied after a denial', async () => {
    const short = await request({ requested_expiry: '60' });
    await expectProtocolError(poll(short.auth_req_id, Date.now() + 61_000), 'expired_token');
    const denied = await request();
    await decide(denied.linkId, { status: 'denied', error: 'access_denied' });
    await expectProtocolError(poll(denied.auth_req_id, Date.now()), 'access_denied');
  });

  it('refuses a scope beyond the client, or one without openid, at the backchannel endpoint', async () => {
    await expectProtocolError(request({ scope: 'openid admin' }), 'invalid_scope', /not allowed/);
    await expectProtocolError(request({ scope: 'profile' }), 'invalid_scope', /must include openid/);
  });

  it('mails the link to the named user on the email channel', async () => {
    const before = outbox.messages.length;
    const res = await backchannelAuthentication({ scope: 'openid', login_hint: email }, bank, {
      store: f.store,
      origin: 'https://ciba-grant.us.example.test',
      mailer: outbox,
    });
    expect(res.link).toBeUndefined();
    expect(outbox.messages.length).toBe(before + 1);
    expect(outbox.messages.at(-1)).toMatchObject({ to: email });
  });
});
