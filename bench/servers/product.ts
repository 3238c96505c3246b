/**
 * The product for the pinned throughput comparison (bench/throughput.ts): the local server with
 * DynamoDB Local (started as a child, so it shares this process's CPU pinning), one tenant and one
 * client_credentials client. Prints one JSON line: where to send the token request and with what.
 * Tenant and client records are cached per container for 10 s, the Lambda default.
 */
import '../env.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { servicesFor } from '../../functions/services.js';
import { startLocal } from '../../local/start.js';

const dataDir = mkdtempSync(join(os.tmpdir(), 'idp-bench-pinned-'));
const server = await startLocal({ port: 0, dataDir, inMemory: true, tenantCacheSeconds: 10 });
const { tenants } = await servicesFor('us');
const { tenant, secret } = await tenants.create({ slug: 'bench', name: 'Benchmark' });
const origin = new URL(server.origin('bench', 'us'));
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
// node:http, not fetch: fetch does not let a request name its Host, which picks the tenant.
function register(metadata: Record<string, unknown>): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: origin.port,
        path: '/v1/clients',
        method: 'POST',
        headers: { host: origin.host, authorization: basic(secret, ''), 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          res.statusCode === 201 || res.statusCode === 200
            ? resolve(text)
            : reject(new Error(`POST /v1/clients answered ${res.statusCode}: ${text}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(
      JSON.stringify({
        client_name: 'bench machine client',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'api:read',
        ...metadata,
      }),
    );
  });
}
const created = await register({});
// The same client with ES256 access tokens (P-256 signs far faster than RSA 2048).
const createdEs256 = await register({ access_token_signed_response_alg: 'ES256' });
type Registered = { client_id: string; client_secret: string };
const client = JSON.parse(created) as Registered;
const clientEs256 = JSON.parse(createdEs256) as Registered;
void tenant;

const stop = () => {
  void server.stop().finally(() => {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
const target = (c: Registered) => ({
  url: `http://127.0.0.1:${origin.port}/oidc/token`,
  headers: {
    host: origin.host,
    authorization: basic(c.client_id, c.client_secret),
    'content-type': 'application/x-www-form-urlencoded',
  },
});
// The RS256 client's target, with the ES256 client's beside it.
process.stdout.write(`${JSON.stringify({ ...target(client), es256: target(clientEs256) })}\n`);
