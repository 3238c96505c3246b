/**
 * The HTTP floor of the pinned throughput comparison (bench/throughput.ts): a bare `node:http`
 * server that does only what a client_credentials token cannot do without — read the body, decode
 * `Authorization: Basic`, compare the secret's SHA-256 in constant time, sign an access-token-sized
 * JWT (RS256, or ES256 for the second client) with node:crypto and write the JSON answer. No
 * routing, tenant, validation, rate limit, logging or storage. Pinned like the servers it is
 * compared with, it shows what Node's HTTP server and the signature alone cost on that core, so the
 * product's own cost per request is the difference. Prints one JSON line like bench/servers/product.ts.
 */
import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const secret = randomBytes(32).toString('base64url');
const secretHash = createHash('sha256').update(secret).digest();
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const HEADERS = {
  RS256: b64({ alg: 'RS256', typ: 'at+jwt', kid: 'floor-rs256' }),
  ES256: b64({ alg: 'ES256', typ: 'at+jwt', kid: 'floor-es256' }),
};

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    const [id = '', presented = ''] = basic ? Buffer.from(basic[1]!, 'base64').toString().split(':') : [];
    const hash = createHash('sha256').update(presented).digest();
    const alg = id === 'es256' ? 'ES256' : id === 'rs256' ? 'RS256' : undefined;
    if (!alg || form.get('grant_type') !== 'client_credentials' || !timingSafeEqual(hash, secretHash)) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":"invalid_client"}');
      return;
    }
    const iat = Math.floor(Date.now() / 1000);
    const input = `${HEADERS[alg]}.${b64({
      iss: `http://${req.headers.host}/oidc`,
      sub: id,
      aud: 'http://localhost/',
      client_id: id,
      scope: form.get('scope') ?? '',
      iat,
      exp: iat + 3600,
      jti: randomUUID(),
    })}`;
    const signature =
      alg === 'RS256'
        ? sign('sha256', Buffer.from(input), rsa)
        : sign('sha256', Buffer.from(input), { key: ec, dsaEncoding: 'ieee-p1363' });
    const body = JSON.stringify({
      access_token: `${input}.${signature.toString('base64url')}`,
      token_type: 'Bearer',
      expires_in: 3600,
      scope: form.get('scope') ?? '',
    });
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(body);
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});

const target = (id: string) => ({
  url: `http://127.0.0.1:${port}/oidc/token`,
  headers: {
    authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
    'content-type': 'application/x-www-form-urlencoded',
  },
});
process.stdout.write(`${JSON.stringify({ ...target('rs256'), es256: target('es256') })}\n`);
