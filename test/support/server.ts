import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Agent, fetch as undiciFetch, type RequestInit, type Response } from 'undici';
import { inject } from 'vitest';
import { startLocal, type LocalServer } from '../../local/start.js';
import { servicesFor } from '../../functions/services.js';
import type { RegionCode } from '../../functions/regions.js';

/**
 * `*.localhost` does not resolve through Node's DNS here: this agent maps every host name to
 * 127.0.0.1, as browsers do for `*.localhost`: a DNS lookup override, so nothing in /etc/hosts.
 */
export const loopback = new Agent({
  connect: {
    lookup: (_host, opts, cb) => {
      if ((opts as { all?: boolean }).all)
        (cb as (e: null, a: { address: string; family: number }[]) => void)(null, [
          { address: '127.0.0.1', family: 4 },
        ]);
      else (cb as (e: null, a: string, f: number) => void)(null, '127.0.0.1', 4);
    },
  },
});

export function http(url: string, init: RequestInit = {}): Promise<Response> {
  return undiciFetch(url, { redirect: 'manual', ...init, dispatcher: loopback });
}

export interface TestServer extends LocalServer {
  /** Creates a tenant through the same repository the CLI uses. */
  tenant(
    slug?: string,
    region?: RegionCode,
  ): Promise<{
    id: string;
    slug: string;
    region: RegionCode;
    secret: string;
    origin: string;
    issuer: string;
  }>;
}

/** The local server on a free port, on the run's DynamoDB Local, with tables of its own. */
export async function startTestServer(): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'idp-test-'));
  const server = await startLocal({
    port: 0,
    dataDir,
    dynamodbEndpoint: inject('dynamodbEndpoint'),
    tableName: `t${randomBytes(5).toString('hex')}-{region}`,
    tenantCacheSeconds: 0,
  });
  return {
    ...server,
    async tenant(slug = `t-${randomBytes(4).toString('hex')}`, region: RegionCode = 'us') {
      const { tenants } = await servicesFor(region);
      const { tenant, secret } = await tenants.create({ slug });
      const origin = server.origin(tenant.slug, region);
      return { id: tenant.id, slug: tenant.slug, region, secret, origin, issuer: `${origin}/oidc` };
    },
  };
}

export const basic = (user: string, pass = '') =>
  `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
