/**
 * The peer for the pinned throughput comparison (bench/throughput.ts): panva's oidc-provider,
 * configured as equivalently as it allows: client_credentials on (`features.clientCredentials`), one
 * confidential client with client_secret_basic, one RS256 key, access tokens as RS256 JWTs (through
 * `features.resourceIndicators`, since oidc-provider issues opaque tokens otherwise), and its
 * default in-memory adapter: it makes no storage round trip at all, where the product reads
 * DynamoDB Local. Prints one JSON line like bench/servers/product.ts.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-rs256', alg: 'RS256', use: 'sig' };
const secret = randomBytes(32).toString('base64url');
const RESOURCE = 'https://api.example.com';

const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: 'bench',
      client_secret: secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [jwk] },
  scopes: ['api:read'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api:read',
        audience: RESOURCE,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
});
server.on('request', provider.callback());

const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdout.write(
  `${JSON.stringify({
    url: `http://127.0.0.1:${port}/token`,
    headers: {
      host: `127.0.0.1:${port}`,
      authorization: `Basic ${Buffer.from(`bench:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
  })}\n`,
);
