/**
 * The operator CLI as an operator runs it (`npm run admin -- …` is `tsx bin/admin.ts …`), against
 * the same DynamoDB Local tables the in-process server uses, found through the server state file.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFor, runAdmin, type AdminResult } from '../support/admin-cli.js';
import { basic, http, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let admin: (...args: string[]) => Promise<AdminResult>;

beforeAll(async () => {
  server = await startTestServer();
  // What `npm start` writes for the CLI (a server state file): this process plays the running server.
  admin = adminFor(server);
});
afterAll(async () => {
  await server.stop();
});

const slug = () => `cli-${Math.random().toString(36).slice(2, 8)}`;

describe('npm run admin', () => {
  it('create-tenant prints exactly one JSON object, and the tenant is served in each region', async () => {
    for (const region of ['us', 'au', 'eu']) {
      const s = slug();
      const r = await admin('create-tenant', '--slug', s, '--region', region);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as Record<string, string>;
      expect(Object.keys(out).sort()).toEqual(['issuer', 'region', 'secret', 'slug', 'tenantId']);
      expect(out.issuer).toBe(`http://${s}.${region}.localhost:${server.port}/oidc`);
      expect(out.secret!.length).toBeGreaterThanOrEqual(43);
      const disc = await http(`${out.issuer}/.well-known/openid-configuration`);
      expect(disc.status).toBe(200);
      expect(((await disc.json()) as { issuer: string }).issuer).toBe(out.issuer);
    }
  });

  it('refuses a taken slug, a bad slug and an unknown region with a clear message', async () => {
    const s = slug();
    expect((await admin('create-tenant', '--slug', s, '--region', 'us')).code).toBe(0);
    const taken = await admin('create-tenant', '--slug', s, '--region', 'us');
    expect(taken.code).toBe(1);
    expect(taken.stdout).toBe('');
    expect(taken.stderr).toContain('already taken');
    const bad = await admin('create-tenant', '--slug', 'Bad_Slug', '--region', 'us');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('lowercase letters');
    const region = await admin('create-tenant', '--slug', slug(), '--region', 'mars');
    expect(region.code).toBe(2);
    expect(region.stderr).toContain('unknown region "mars"');
  });

  it('rotate-secret replaces the secret; update-tenant, list-tenants and delete-tenant work', async () => {
    const s = slug();
    const created = JSON.parse(
      (await admin('create-tenant', '--slug', s, '--region', 'eu')).stdout,
    ) as Record<string, string>;
    const rotated = await admin('rotate-secret', '--slug', s, '--region', 'eu');
    expect(rotated.code, rotated.stderr).toBe(0);
    const next = JSON.parse(rotated.stdout) as Record<string, string>;
    expect(next.secret).not.toBe(created.secret);
    const origin = server.origin(s, 'eu');
    const asUser = (secret: string) =>
      http(`${origin}/v1/users/u1`, { headers: { authorization: basic(secret) } }).then((r) => r.status);
    expect(await asUser(created.secret!)).toBe(401);
    expect(await asUser(next.secret!)).toBe(200);

    const updated = await admin(
      'update-tenant',
      '--slug',
      s,
      '--region',
      'eu',
      '--name',
      'Acme EU',
      '--color',
      '#0F766E',
    );
    expect(updated.code, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ name: 'Acme EU', brandColor: '#0f766e' });
    const settings = await admin(
      'update-tenant',
      ...['--slug', s, '--region', 'eu', '--sign-up', 'email', '--sms-countries', 'us, nz'],
    );
    expect(settings.code, settings.stderr).toBe(0);
    expect(JSON.parse(settings.stdout)).toMatchObject({
      name: 'Acme EU',
      settings: { signUp: 'email', signUpAuthenticator: 'required', sms: { allowedCountries: ['NZ', 'US'] } },
    });
    const bad = await admin('update-tenant', '--slug', s, '--region', 'eu', '--sms-countries', 'US,XX');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--sms-countries');
    const cleared = await admin('update-tenant', '--slug', s, '--region', 'eu', '--sms-countries', 'none');
    expect(JSON.parse(cleared.stdout)).toMatchObject({
      settings: { signUp: 'email', sms: { allowedCountries: [] } },
    });

    const list = JSON.parse((await admin('list-tenants', '--region', 'eu')).stdout) as {
      tenants: { slug: string }[];
    };
    expect(list.tenants.map((t) => t.slug)).toContain(s);

    expect((await admin('delete-tenant', '--slug', s, '--region', 'eu')).code).toBe(2); // needs --yes
    const deleted = await admin('delete-tenant', '--slug', s, '--region', 'eu', '--yes');
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(JSON.parse(deleted.stdout)).toMatchObject({ deleted: true, slug: s });
    expect((await http(`${origin}/oidc/jwks`)).status).toBe(404);
  });

  it('rotate-keys publishes the next keys before they sign; revoke-key removes a key from the JWKS at once', async () => {
    const s = slug();
    const created = await admin('create-tenant', '--slug', s, '--region', 'us');
    expect(created.code, created.stderr).toBe(0);
    const { secret } = JSON.parse(created.stdout) as { secret: string };
    const origin = server.origin(s, 'us');
    const jwks = async () =>
      ((await (await http(`${origin}/oidc/jwks`)).json()) as { keys: { kid: string; alg: string }[] }).keys;
    // A client_credentials token of a fresh client, and the kid that signed it.
    const app = (await (
      await http(`${origin}/v1/clients`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: basic(secret) },
        body: JSON.stringify({ client_name: 'cli', grant_types: ['client_credentials'] }),
      })
    ).json()) as { client_id: string; client_secret: string };
    const signingKid = async () => {
      const res = await http(`${origin}/oidc/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic(app.client_id, app.client_secret),
        },
        body: 'grant_type=client_credentials',
      });
      const { access_token } = (await res.json()) as { access_token: string };
      return decodeProtectedHeader(access_token).kid;
    };
    const before = await jwks();
    expect(before.map((k) => k.alg)).toEqual(['RS256', 'PS256', 'ES256', 'EdDSA']);
    const current = await signingKid();

    const rotated = await admin('rotate-keys', '--slug', s, '--region', 'us');
    expect(rotated.code, rotated.stderr).toBe(0);
    const out = JSON.parse(rotated.stdout) as {
      published: { kid: string; alg: string; signsFrom: string }[];
      retiring: { kid: string; publishedUntil: string }[];
    };
    expect(out.published.map((k) => k.alg)).toEqual(['RS256', 'PS256', 'ES256', 'EdDSA']);
    for (const k of out.published) expect(Date.parse(k.signsFrom)).toBeGreaterThan(Date.now());
    expect(out.retiring.map((k) => k.kid)).toContain(current);
    const after = (await jwks()).map((k) => k.kid);
    expect(after).toEqual(
      expect.arrayContaining([...before.map((k) => k.kid), ...out.published.map((k) => k.kid)]),
    );
    // Published, but the current key still signs until the next one's time comes.
    expect(await signingKid()).toBe(current);

    const revoked = await admin('revoke-key', '--slug', s, '--region', 'us', '--kid', current!);
    expect(revoked.code, revoked.stderr).toBe(0);
    const { replacement } = JSON.parse(revoked.stdout) as { replacement: string };
    expect((await jwks()).map((k) => k.kid)).not.toContain(current);
    expect(await signingKid()).toBe(replacement);
    // In an emergency the waiting next key takes over at once.
    expect(replacement).toBe(out.published.find((k) => k.alg === 'RS256')!.kid);

    const unknown = await admin('revoke-key', '--slug', s, '--region', 'us', '--kid', 'nope');
    // A thumbprint may begin with "-": still read as the kid, not as an option.
    const dashed = await admin('revoke-key', '--slug', s, '--region', 'us', '--kid', '-nope');
    expect(dashed.code).toBe(1);
    expect(dashed.stderr).toContain('-nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no signing key "nope"/);
    expect((await admin('revoke-key', '--slug', s, '--region', 'us')).code).toBe(2);
  });
});

describe('npm run admin: help and usage errors', () => {
  it('--help prints the usage on stdout and exits 0', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await runAdmin({}, flag);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^usage: npm run admin -- <verb> \[options\]\n/);
      expect(r.stdout).toContain('create-tenant --slug <slug> --region <us|au|eu>');
      expect(r.stderr).toBe('');
    }
  });

  it('an unknown option exits 2 and names it, with the usage, on stderr', async () => {
    const r = await runAdmin({}, 'create-tenant', '--slgu', 'acme', '--region', 'us');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Unknown option '--slgu'\nusage: npm run admin/);
  });

  it('--target aws without AWS credentials says so in one sentence and exits 1', async () => {
    const home = mkdtempSync(join(tmpdir(), 'idp-nohome-'));
    const r = await runAdmin(
      {
        HOME: home,
        AWS_PROFILE: undefined,
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
        AWS_SESSION_TOKEN: undefined,
        AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
        AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
        // No instance metadata lookup: this machine has none, and waiting for it proves nothing.
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      'list-tenants',
      '--target',
      'aws',
      '--base-domain',
      'id.example.com',
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      'error: --target aws needs AWS credentials and none were found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run `aws configure` or `aws sso login` first.',
    ]);
  });
});
