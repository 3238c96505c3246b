import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
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

const fromAgents = new Map<string, Agent>();

/**
 * An agent whose connections come from the loopback address `ip` (all of 127.0.0.0/8 is local on
 * Linux) and go to the local server at 127.0.0.1, whatever the host name: the server sees `ip` as
 * the request's source IP.
 */
export function agentFrom(ip: string): Agent {
  let agent = fromAgents.get(ip);
  if (!agent) {
    agent = new Agent({
      connect: (opts, cb) => {
        const socket = connect({ host: '127.0.0.1', port: Number(opts.port), localAddress: ip });
        socket.once('connect', () => cb(null, socket)).once('error', (err) => cb(err, null));
        return socket;
      },
    });
    fromAgents.set(ip, agent);
  }
  return agent;
}

/** `http` from the source address `ip`. */
export function httpFrom(ip: string, url: string, init: RequestInit = {}): Promise<Response> {
  return undiciFetch(url, { redirect: 'manual', ...init, dispatcher: agentFrom(ip) });
}

let nextSource = 0;
/**
 * `http` from one of 250 loopback source addresses in turn: for tests that fail authentication on
 * purpose many times and are about the answer, not the limit, so the per-source-IP failure limit
 * (`functions/clients/auth-failures.ts`) does not turn their 401s into 429s.
 */
export function httpFromAnywhere(url: string, init: RequestInit = {}): Promise<Response> {
  nextSource = (nextSource % 250) + 1;
  return httpFrom(`127.0.9.${nextSource}`, url, init);
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

/**
 * The local server on a free port, on the run's DynamoDB Local (or another endpoint in front of
 * it, such as test/support/fault-proxy.ts), with tables of its own.
 */
export async function startTestServer(opts: { dynamodbEndpoint?: string } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'idp-test-'));
  const server = await startLocal({
    port: 0,
    dataDir,
    dynamodbEndpoint: opts.dynamodbEndpoint ?? inject('dynamodbEndpoint'),
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
