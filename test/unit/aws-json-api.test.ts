import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AwsApi,
  AwsApiError,
  endpointFor,
  envCredentials,
  parseError,
  staticCredentials,
} from '../../functions/aws/json-api.js';
import { BackendUnavailableError } from '../../functions/errors.js';
import { freePort } from '../../local/dynamodb-local.js';
import { startKmsEndpoint, type KmsEndpoint } from '../support/kms-endpoint.js';

/** A local server whose answers the test scripts, one handler per request in turn. */
type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
let handlers: Handler[] = [];
const seen: { headers: IncomingMessage['headers']; body: string }[] = [];
const sockets = new Set<Socket>();
let url: string;
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (d: Buffer) => (body += d.toString()));
  req.on('end', () => {
    seen.push({ headers: req.headers, body });
    const handle = handlers.shift() ?? ((_q, r) => r.end('{}'));
    handle(req, res, body);
  });
});
server.on('connection', (s) => sockets.add(s));

beforeAll(async () => {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((done) => server.close(done));
});
afterEach(() => {
  handlers = [];
  seen.length = 0;
});

const json =
  (status: number, body: object, headers: Record<string, string> = {}): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', ...headers });
    res.end(JSON.stringify(body));
  };
const client = (opts: { maxAttempts?: number; timeoutMs?: number } = {}) =>
  new AwsApi({
    service: 'dynamodb',
    region: 'eu-west-1',
    endpoint: url,
    credentials: staticCredentials({ accessKeyId: 'AKID', secretAccessKey: 'secret' }),
    backoffMs: 1,
    ...opts,
  });

describe('AwsApi requests', () => {
  it('sends a JSON-RPC call: X-Amz-Target, the protocol content type, SigV4 for the service and region', async () => {
    handlers = [json(200, { Item: { pk: { S: 'a' } } })];
    const out = await client().call('GetItem', { TableName: 't' });
    expect(out).toEqual({ Item: { pk: { S: 'a' } } });
    const { headers, body } = seen[0]!;
    expect(headers['x-amz-target']).toBe('DynamoDB_20120810.GetItem');
    expect(headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=.*x-amz-target.*, Signature=[0-9a-f]{64}$/,
    );
    expect(JSON.parse(body)).toEqual({ TableName: 't' });
  });

  it('is accepted by an endpoint that recomputes the SigV4 signature, and refused with the wrong credentials', async () => {
    const kms: KmsEndpoint = await startKmsEndpoint('us-west-2');
    try {
      kms.addSymmetricKey('arn:aws:kms:us-west-2:1:key/k');
      await expect(
        kms.client().call('Encrypt', { KeyId: 'arn:aws:kms:us-west-2:1:key/k', Plaintext: 'AA==' }),
      ).resolves.toHaveProperty('CiphertextBlob');
      const forged = kms.client({
        credentials: staticCredentials({ accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'wrong' }),
      });
      const err = await forged.call('Encrypt', {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AwsApiError);
      expect((err as AwsApiError).name).toBe('InvalidSignatureException');
      const elsewhere = kms.client({ region: 'eu-west-1' });
      await expect(elsewhere.call('Encrypt', {})).rejects.toMatchObject({
        name: 'InvalidSignatureException',
      });
    } finally {
      await kms.close();
    }
  });

  it('finds the endpoint as the SDK does: AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, else the region', () => {
    expect(endpointFor('kms', 'us-west-2', {})).toBe('https://kms.us-west-2.amazonaws.com');
    expect(endpointFor('sesv2', 'eu-west-1', {})).toBe('https://email.eu-west-1.amazonaws.com');
    expect(endpointFor('dynamodb', 'ap-southeast-2', { AWS_ENDPOINT_URL: 'http://all:1/' })).toBe(
      'http://all:1',
    );
    expect(
      endpointFor('kms', 'us-west-2', {
        AWS_ENDPOINT_URL: 'http://all:1',
        AWS_ENDPOINT_URL_KMS: 'http://kms:2',
      }),
    ).toBe('http://kms:2');
    expect(
      endpointFor('kms', 'us-west-2', {
        AWS_ENDPOINT_URL_KMS: 'http://kms:2',
        AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true',
      }),
    ).toBe('https://kms.us-west-2.amazonaws.com');
  });

  it('reads Lambda credentials from the environment, and says so when there are none', () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, {
        AWS_ACCESS_KEY_ID: 'A',
        AWS_SECRET_ACCESS_KEY: 'S',
        AWS_SESSION_TOKEN: 'T',
      });
      expect(envCredentials()).toEqual({ accessKeyId: 'A', secretAccessKey: 'S', sessionToken: 'T' });
      delete process.env.AWS_ACCESS_KEY_ID;
      expect(() => envCredentials()).toThrow(/AWS_ACCESS_KEY_ID/);
    } finally {
      process.env = saved;
    }
  });
});

describe('AwsApi errors', () => {
  it('names the error by its code, from __type or x-amzn-errortype, and keeps the other fields', async () => {
    handlers = [
      json(400, {
        __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
        Message: 'Transaction cancelled',
        CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed', Item: { pk: { S: 'a' } } }],
      }),
    ];
    const err = await client()
      .call('TransactWriteItems', {})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsApiError);
    expect(err).toMatchObject({
      name: 'TransactionCanceledException',
      message: 'Transaction cancelled',
      status: 400,
      fields: {
        CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed', Item: { pk: { S: 'a' } } }],
      },
    });
    const headerOnly = parseError(
      400,
      { 'x-amzn-errortype': 'ValidationException:http://internal/' },
      '{"message":"bad"}',
    );
    expect(headerOnly).toMatchObject({ name: 'ValidationException', message: 'bad' });
    expect(parseError(502, {}, '<html>bad gateway</html>')).toMatchObject({
      name: 'InternalFailure',
      status: 502,
    });
  });

  it('does not retry a client error', async () => {
    handlers = [json(400, { __type: 'ValidationException', message: 'no' })];
    await expect(client().call('PutItem', {})).rejects.toMatchObject({ name: 'ValidationException' });
    expect(seen).toHaveLength(1);
  });

  it('retries throttling and 5xx with one invocation id and numbered attempts, and succeeds when the service recovers', async () => {
    handlers = [
      json(400, { __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException' }),
      json(500, { __type: 'InternalServerError' }),
      json(200, { ok: true }),
    ];
    await expect(client().call('GetItem', {})).resolves.toEqual({ ok: true });
    expect(seen.map((s) => s.headers['amz-sdk-request'])).toEqual([
      'attempt=1; max=3',
      'attempt=2; max=3',
      'attempt=3; max=3',
    ]);
    expect(new Set(seen.map((s) => s.headers['amz-sdk-invocation-id'])).size).toBe(1);
  });

  it('gives up after its attempts with BackendUnavailableError, the last error as its cause', async () => {
    handlers = [0, 1, 2].map(() => json(400, { __type: 'ThrottlingException', message: 'slow down' }));
    const err = await client()
      .call('Query', {})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toBe('dynamodb Query unavailable: ThrottlingException');
    expect((err as Error).cause).toMatchObject({ name: 'ThrottlingException' });
    expect(seen).toHaveLength(3);
  });

  it('times out an attempt that gets no answer, retries it, then answers BackendUnavailableError', async () => {
    handlers = [() => undefined, () => undefined]; // never answered
    const err = await client({ maxAttempts: 2, timeoutMs: 200 })
      .call('GetItem', {})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toMatch(/TimeoutError/);
    expect(seen).toHaveLength(2);
  });

  it('treats a dropped connection and a refused one as unavailable', async () => {
    handlers = [(req) => req.socket.destroy(), json(200, { ok: 1 })];
    await expect(client().call('GetItem', {})).resolves.toEqual({ ok: 1 });
    const port = await freePort();
    const dead = new AwsApi({
      service: 'kms',
      region: 'us-west-2',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: staticCredentials({ accessKeyId: 'a', secretAccessKey: 'b' }),
      backoffMs: 1,
    });
    await expect(dead.call('Sign', {})).rejects.toThrow(/kms Sign unavailable: ECONNREFUSED/);
  });

  it('keeps its connection: consecutive calls share one socket', async () => {
    const before = sockets.size;
    const api = client();
    for (let i = 0; i < 5; i++) await api.call('GetItem', { i });
    expect(seen).toHaveLength(5);
    expect(sockets.size - before).toBeLessThanOrEqual(1);
  });

  it('retries when the endpoint closed the kept connection between calls (a thawed container)', async () => {
    const api = client();
    await api.call('GetItem', {});
    // The endpoint drops every idle connection, as one may while a Lambda container is frozen.
    for (const s of sockets) s.destroy();
    handlers = [json(200, { again: true })];
    await expect(api.call('GetItem', {})).resolves.toEqual({ again: true });
  });

  it('treats an answer cut off in the middle as unavailable, and retries it', async () => {
    handlers = [
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'content-length': '100' });
        res.write('{"Item":');
        setTimeout(() => res.socket?.destroy(), 10);
      },
      json(200, { whole: true }),
    ];
    await expect(client().call('GetItem', {})).resolves.toEqual({ whole: true });
    expect(seen).toHaveLength(2);
  });

  it('tells each observer about each call once, with its input, output or error', async () => {
    handlers = [json(200, { a: 1 }), json(400, { __type: 'ConditionalCheckFailedException' })];
    const api = client();
    const calls: unknown[] = [];
    api.observe((c) =>
      calls.push({
        op: c.operation,
        input: c.input,
        output: c.output,
        error: (c.error as Error | undefined)?.name,
      }),
    );
    await api.call('GetItem', { x: 1 });
    await api.call('PutItem', { y: 2 }).catch(() => undefined);
    expect(calls).toEqual([
      { op: 'GetItem', input: { x: 1 }, output: { a: 1 }, error: undefined },
      { op: 'PutItem', input: { y: 2 }, output: undefined, error: 'ConditionalCheckFailedException' },
    ]);
  });
});
