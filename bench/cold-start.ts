/**
 * Cold starts as a Lambda function meets them (`npm run bench` runs this in a process of its own;
 * `npx tsx bench/cold-start.ts` alone works too). A cold start is more than importing the bundle
 * (`npm run bundle-report` times that): the first invocation also reads the tenant, the client and
 * the tenant's keys, opens the signing key through KMS and makes the first connections, and a
 * module that loads lazily (Node's `fetch` did, 45–88 ms) shows up only there.
 *
 * Each route's handler is bundled exactly as the stack bundles it (`lib/bundling.ts`), then run in a
 * fresh Node process per sample: import, one invocation, a second one (warm). The process has the
 * Lambda configuration: AWS adapters only (the local ones are not in a bundle), DynamoDB Local for
 * the table and a local KMS endpoint that does the real cryptography for the secret box
 * (`SECRET_BOX=kms`, so opening a tenant's signing key is a KMS `Decrypt`). Over loopback and plain
 * HTTP: on AWS each first connection adds a TLS handshake and the network's round trips.
 *
 *   BENCH_COLD_RUNS (5): fresh processes per route; medians are printed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUNDLE } from '../lib/bundling.js';
import { TEST_CREDENTIALS } from '../test/support/aws-endpoint.js';
import { startKmsEndpoint } from '../test/support/kms-endpoint.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const RUNS = Number(process.env.BENCH_COLD_RUNS ?? 5);
const SECRETS_KEY = 'arn:aws:kms:us-west-2:111122223333:key/bench-secrets';

// The Lambda configuration, set before any product module reads it.
const kms = await startKmsEndpoint('us-west-2');
kms.addSymmetricKey(SECRETS_KEY);
Object.assign(process.env, {
  LOG_LEVEL: 'SILENT',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
  AWS_SESSION_TOKEN: TEST_CREDENTIALS.sessionToken,
  AWS_ENDPOINT_URL_KMS: kms.url,
  SIGNER: 'tenant',
  SECRET_BOX: 'kms',
  SECRETS_KEY_ID: SECRETS_KEY,
});
const { startLocal } = await import('../local/start.js');
const { servicesFor } = await import('../functions/services.js');

interface Sample {
  importMs: number;
  firstMs: number;
  warmMs: number;
  status: number;
}

/** In the fresh process: import, invoke, invoke again; one JSON line out. */
const CHILD = `
const file = process.env.COLD_BUNDLE, event = JSON.parse(process.env.COLD_EVENT);
const context = { functionName: 'cold', awsRequestId: 'cold-1', getRemainingTimeInMillis: () => 30000 };
const t0 = performance.now();
const { handler } = await import(file);
const t1 = performance.now();
const first = await handler(event, context);
const t2 = performance.now();
await handler({ ...event, requestContext: { ...event.requestContext, requestId: 'cold-2' } }, { ...context, awsRequestId: 'cold-2' });
const t3 = performance.now();
process.stdout.write(JSON.stringify({ importMs: t1 - t0, firstMs: t2 - t1, warmMs: t3 - t2, status: first.statusCode }));
process.exit(0);
`;

function v2Event(method: string, path: string, host: string, headers: Record<string, string>, body?: string) {
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { host, ...headers },
    requestContext: {
      domainName: host.replace(/:\d+$/, ''),
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.10', userAgent: 'cold-start' },
      requestId: 'cold-1',
      routeKey: `${method} ${path}`,
      stage: '$default',
      timeEpoch: Date.now(),
    },
    ...(body ? { body } : {}),
    isBase64Encoded: false,
  };
}

function coldProcess(file: string, event: object): Promise<Sample> {
  return new Promise<Sample>((done, fail) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: { ...process.env, COLD_BUNDLE: file, COLD_EVENT: JSON.stringify(event) },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('exit', (code) =>
      code === 0
        ? done(JSON.parse(stdout) as Sample)
        : fail(new Error(`the cold process failed:\n${stderr}`)),
    );
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'idp-cold-'));
  const out = join(dataDir, 'bundles');
  const server = await startLocal({ port: 0, dataDir, inMemory: true, tenantCacheSeconds: 10 });
  try {
    const { tenants } = await servicesFor('us');
    const { secret } = await tenants.create({ slug: 'cold', name: 'Cold start' });
    const host = new URL(server.origin('cold', 'us')).host;
    const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
    const client = JSON.parse(
      await new Promise<string>((done, fail) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: server.port,
            path: '/v1/clients',
            method: 'POST',
            headers: { host, authorization: basic(secret, ''), 'content-type': 'application/json' },
          },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => (res.statusCode === 201 ? done(text) : fail(new Error(text))));
          },
        );
        req.on('error', fail);
        req.end(
          JSON.stringify({
            client_name: 'cold start client',
            grant_types: ['client_credentials'],
            token_endpoint_auth_method: 'client_secret_basic',
            scope: 'api:read',
          }),
        );
      }),
    ) as { client_id: string; client_secret: string };

    const cases = [
      {
        handler: 'health',
        what: 'GET /health (no tenant, no AWS call)',
        event: v2Event('GET', '/health', host, {}),
      },
      {
        handler: 'jwks',
        what: 'GET /oidc/jwks (tenant, key list)',
        event: v2Event('GET', '/oidc/jwks', host, {}),
      },
      {
        handler: 'token',
        what: 'POST /oidc/token client_credentials (tenant, client, counters, key list, KMS Decrypt, RS256)',
        event: v2Event(
          'POST',
          '/oidc/token',
          host,
          {
            authorization: basic(client.client_id, client.client_secret),
            'content-type': 'application/x-www-form-urlencoded',
          },
          'grant_type=client_credentials&scope=api%3Aread',
        ),
      },
    ];
    const lines = [
      `Cold start (a fresh Node process per sample, the route bundled as the stack does; median of ${RUNS}; DynamoDB Local and a local KMS over plain HTTP)`,
      `  ${'route'.padEnd(12)}${'import'.padStart(9)}${'first call'.padStart(12)}${'import+first'.padStart(14)}${'warm call'.padStart(11)}   what the first call does`,
    ];
    for (const c of cases) {
      const dir = join(out, c.handler);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'index.mjs');
      await build({
        ...BUNDLE,
        mainFields: [...BUNDLE.mainFields],
        banner: { js: BUNDLE.banner },
        entryPoints: [join(ROOT, 'functions/handlers', `${c.handler}.ts`)],
        bundle: true,
        outfile: file,
        logLevel: 'error',
        absWorkingDir: ROOT,
        tsconfig: join(ROOT, 'tsconfig.json'),
      });
      const samples: Sample[] = [];
      for (let i = 0; i < RUNS; i++) {
        // Not spawnSync: the KMS endpoint answers from this process's event loop.
        const sample = await coldProcess(file, c.event);
        if (sample.status !== 200) throw new Error(`${c.handler}: answered ${sample.status}`);
        samples.push(sample);
      }
      const ms = (v: number) => `${v.toFixed(1)} ms`;
      const imp = median(samples.map((s) => s.importMs));
      const first = median(samples.map((s) => s.firstMs));
      const total = median(samples.map((s) => s.importMs + s.firstMs));
      const warm = median(samples.map((s) => s.warmMs));
      lines.push(
        `  ${c.handler.padEnd(12)}${ms(imp).padStart(9)}${ms(first).padStart(12)}${ms(total).padStart(14)}${ms(warm).padStart(11)}   ${c.what}`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await server.stop();
    await kms.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
