import { beforeAll, describe, expect, it } from 'vitest';
import { CIBA_GRANT, DEVICE_CODE_GRANT, mayUseGrant, type Client } from '../../functions/clients/client.js';
import { clientCredentialsGrant } from '../../functions/oidc/client-credentials.js';
import { expectProtocolError, grantFixture, type GrantFixture } from '../support/grants.js';

let f: GrantFixture;
let service: Client;

beforeAll(async () => {
  f = await grantFixture('cc-grant');
  service = f.client({
    grant_types: ['client_credentials'],
    scope: 'openid offline_access reports:read reports:write',
    resources: ['https://reports.example.test'],
  });
});

const grant = (form: Record<string, string>, resources: string[] = [], c = service) =>
  clientCredentialsGrant({ form, resources }, c, f.deps);

describe('client_credentials grant (RFC 6749 §4.4)', () => {
  it('issues an access token for the client itself, with its scopes but no user ones', async () => {
    const tokens = await grant({});
    expect(tokens).toMatchObject({ token_type: 'Bearer', scope: 'reports:read reports:write' });
    expect(tokens.id_token).toBeUndefined();
    expect(tokens.refresh_token).toBeUndefined();
    const claims = await f.activeClaims(tokens.access_token);
    expect(claims).toMatchObject({
      sub: service.client_id,
      client_id: service.client_id,
      aud: service.client_id,
    });
    expect(claims.gid).toBeUndefined();
  });

  it('narrows to the scopes asked for', async () => {
    const tokens = await grant({ scope: 'reports:read' });
    expect((await f.activeClaims(tokens.access_token)).scope).toBe('reports:read');
  });

  it('refuses a scope beyond the client, and the user-only ones', async () => {
    await expectProtocolError(
      grant({ scope: 'reports:read admin' }),
      'invalid_scope',
      /not allowed for this client: admin/,
    );
    await expectProtocolError(grant({ scope: 'openid' }), 'invalid_scope', /openid/);
    await expectProtocolError(grant({ scope: 'offline_access' }), 'invalid_scope', /offline_access/);
  });

  it('sets the audience to a registered resource, and refuses others (RFC 8707)', async () => {
    const tokens = await grant({}, ['https://reports.example.test']);
    expect((await f.activeClaims(tokens.access_token)).aud).toBe('https://reports.example.test');
    await expectProtocolError(grant({}, ['https://other.example.test']), 'invalid_target', /not allowed/);
  });
});

describe('mayUseGrant: the check the token endpoint makes once, before any grant', () => {
  it('allows only the grants a client lists', () => {
    const c = f.client({ grant_types: ['authorization_code', DEVICE_CODE_GRANT] });
    expect(mayUseGrant(c, 'authorization_code')).toBe(true);
    expect(mayUseGrant(c, DEVICE_CODE_GRANT)).toBe(true);
    expect(mayUseGrant(c, 'refresh_token')).toBe(false);
    expect(mayUseGrant(c, 'client_credentials')).toBe(false);
  });

  it('refuses client_credentials and CIBA to a public client even if it lists them', () => {
    const pub = f.client({
      client_type: 'public',
      token_endpoint_auth_method: 'none',
      grant_types: ['client_credentials', CIBA_GRANT, DEVICE_CODE_GRANT],
    });
    expect(mayUseGrant(pub, 'client_credentials')).toBe(false);
    expect(mayUseGrant(pub, CIBA_GRANT)).toBe(false);
    expect(mayUseGrant(pub, DEVICE_CODE_GRANT)).toBe(true);
  });
});
