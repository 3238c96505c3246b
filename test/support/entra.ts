/**
 * Playing Microsoft Entra ID for the EAM tests: a local issuer on 127.0.0.1 serving each Entra
 * tenant's discovery document and key set, hints signed with jose, the request Entra sends, and
 * the integration set up through the management API.
 */
import { createServer, type Server } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { expect } from 'vitest';
import { JSON_TYPE, docAuth, type TestTenant } from './flow.js';
import { http } from './server.js';

export const ENTRA_CALLBACK = 'https://login.microsoftonline.com/common/federation/externalauthprovider';
/** The `claims` parameter as Entra sends it ("external method provider reference"). */
export const ENTRA_CLAIMS = (
  amr = ['face', 'fido', 'fpt', 'hwk', 'iris', 'otp', 'tel', 'pop', 'sms', 'swk'],
) =>
  JSON.stringify({
    id_token: {
      acr: { essential: true, values: ['possessionorinherence'] },
      amr: { essential: true, values: amr },
    },
  });

export interface SigningKey {
  kid: string;
  priv: CryptoKey;
  jwk: JWK;
}

export async function signingKey(kid = randomBytes(6).toString('hex')): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, priv: privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

export class FakeEntra {
  /** The keys each key set publishes (rotate by replacing). */
  published: SigningKey[] = [];
  requests: string[] = [];
  private constructor(
    private readonly server: Server,
    readonly authority: string,
  ) {}

  static async start(): Promise<FakeEntra> {
    const state: { self?: FakeEntra } = {};
    const server = createServer((req, res) => {
      state.self!.requests.push(req.url ?? '');
      const m =
        /^\/([0-9a-f-]{36})\/(v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys)$/.exec(
          req.url ?? '',
        );
      if (!m) return void res.writeHead(404).end();
      const tid = m[1]!;
      const body = m[2]!.startsWith('v2.0')
        ? {
            issuer: `${state.self!.authority}/${tid}/v2.0`,
            jwks_uri: `${state.self!.authority}/${tid}/discovery/v2.0/keys`,
            id_token_signing_alg_values_supported: ['RS256'],
          }
        : { keys: state.self!.published.map((k) => k.jwk) };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const self = new FakeEntra(server, `http://127.0.0.1:${port}`);
    self.published = [await signingKey()];
    state.self = self;
    return self;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** An ID token hint as Entra issues it for the provider's application. */
  async hint(
    claims: { tid: string; oid?: string; aud: string; sub?: string; preferred_username?: string },
    opts: { key?: SigningKey; iss?: string; expiredSecondsAgo?: number; alg?: string } = {},
  ): Promise<string> {
    const key = opts.key ?? this.published[0]!;
    const now = Math.floor(Date.now() / 1000);
    const exp = opts.expiredSecondsAgo !== undefined ? now - opts.expiredSecondsAgo : now + 3600;
    return new SignJWT({
      sub: claims.sub ?? randomBytes(16).toString('base64url'),
      oid: claims.oid ?? randomUUID(),
      tid: claims.tid,
      ver: '2.0',
      ...(claims.preferred_username ? { preferred_username: claims.preferred_username } : {}),
    })
      .setProtectedHeader({ alg: opts.alg ?? 'RS256', kid: key.kid, typ: 'JWT' })
      .setIssuer(opts.iss ?? `${this.authority}/${claims.tid}/v2.0`)
      .setAudience(claims.aud)
      .setIssuedAt(exp - 3600)
      .setExpirationTime(exp)
      .sign(key.priv);
  }
}

export interface EntraSetup {
  tid: string;
  applicationId: string;
  clientId: string;
}

export async function putIntegration(
  t: TestTenant,
  setup: EntraSetup,
  extra: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const res = await http(`${t.origin}/v1/integrations/entra`, {
    method: 'PUT',
    headers: { ...JSON_TYPE, authorization: docAuth(t) },
    body: JSON.stringify({
      tenantIds: [setup.tid],
      applicationId: setup.applicationId,
      clientId: setup.clientId,
      redirectUri: ENTRA_CALLBACK,
      ...extra,
    }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** The authorization request Entra's browser redirect carries. */
export function entraRequest(
  t: TestTenant,
  setup: EntraSetup,
  hint: string,
  extra: Record<string, string> = {},
): { url: string; state: string; nonce: string } {
  const state = randomBytes(12).toString('base64url');
  const nonce = randomBytes(12).toString('base64url');
  const q = new URLSearchParams({
    scope: 'openid',
    response_type: 'id_token',
    response_mode: 'form_post',
    client_id: setup.clientId,
    redirect_uri: ENTRA_CALLBACK,
    claims: ENTRA_CLAIMS(),
    nonce,
    state,
    id_token_hint: hint,
    login_hint: 'user@contoso.example',
    ...extra,
  });
  for (const [k, v] of Object.entries(extra)) if (v === '') q.delete(k);
  return { url: `${t.issuer}/auth?${q}`, state, nonce };
}
