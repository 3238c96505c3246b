/**
 * The functions' AWS calls as X-Ray subsegments (functions/aws/xray.ts): a real UDP socket plays
 * the X-Ray daemon, a local HTTP server plays DynamoDB, and the JSON client is the real one.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsApi, staticCredentials } from '../../functions/aws/json-api.js';
import { daemonAddress, traceContext } from '../../functions/aws/xray.js';

const TRACE = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
const daemon = createSocket('udp4');
const datagrams: string[] = [];
daemon.on('message', (m) => datagrams.push(m.toString()));
// DynamoDB: GetItem answers an item, PutItem a failed condition.
const dynamo = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (String(req.headers['x-amz-target']).endsWith('.PutItem')) {
      res.statusCode = 400;
      res.end(
        JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
          message: 'The conditional request failed',
        }),
      );
    } else res.end('{"Item":{}}');
  });
});
let api: AwsApi;
const saved = { trace: process.env._X_AMZN_TRACE_ID, address: process.env.AWS_XRAY_DAEMON_ADDRESS };

beforeAll(async () => {
  await new Promise<void>((done) => daemon.bind(0, '127.0.0.1', done));
  await new Promise<void>((done) => dynamo.listen(0, '127.0.0.1', done));
  process.env.AWS_XRAY_DAEMON_ADDRESS = `127.0.0.1:${daemon.address().port}`;
  api = new AwsApi({
    service: 'dynamodb',
    region: 'us-west-2',
    endpoint: `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`,
    credentials: staticCredentials({ accessKeyId: 'test', secretAccessKey: 'test' }),
    maxAttempts: 1,
  });
});
afterAll(async () => {
  for (const [name, value] of [
    ['_X_AMZN_TRACE_ID', saved.trace],
    ['AWS_XRAY_DAEMON_ADDRESS', saved.address],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  daemon.close();
  await new Promise((done) => dynamo.close(done));
});

async function next(count: number): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 100 && datagrams.length < count; i++) await new Promise((r) => setTimeout(r, 10));
  return datagrams.splice(0, count).map((d) => {
    const [header, body] = d.split('\n');
    expect(JSON.parse(header!)).toEqual({ format: 'json', version: 1 });
    return JSON.parse(body!) as Record<string, unknown>;
  });
}

describe('X-Ray subsegments of AWS calls', () => {
  it('sends one per call of a sampled invocation, under its trace, with the operation and table', async () => {
    process.env._X_AMZN_TRACE_ID = TRACE;
    await api.call('GetItem', { TableName: 'identity-us', Key: {} });
    const [doc] = await next(1);
    expect(doc).toMatchObject({
      type: 'subsegment',
      trace_id: '1-5759e988-bd862e3fe1be46a994272793',
      parent_id: '53995c3f42cd8ad8',
      name: 'DynamoDB',
      namespace: 'aws',
      aws: { operation: 'GetItem', region: 'us-west-2', table_name: 'identity-us' },
    });
    expect(doc!.id).toMatch(/^[0-9a-f]{16}$/);
    expect(doc!.end_time as number).toBeGreaterThanOrEqual(doc!.start_time as number);
    expect(doc).not.toHaveProperty('error');
  });

  it('marks a refused call as an error with its AWS code only, never the message or the input', async () => {
    process.env._X_AMZN_TRACE_ID = TRACE;
    await expect(
      api.call('PutItem', { TableName: 'identity-us', Item: { secret: { S: 'do-not-trace' } } }),
    ).rejects.toThrow();
    const [doc] = await next(1);
    expect(doc).toMatchObject({
      error: true,
      cause: { exceptions: [{ type: 'ConditionalCheckFailedException' }] },
    });
    expect(JSON.stringify(doc)).not.toMatch(/do-not-trace|conditional request failed/);
  });

  it('sends nothing for an invocation that is not sampled, or without a daemon', async () => {
    process.env._X_AMZN_TRACE_ID = TRACE.replace('Sampled=1', 'Sampled=0');
    await api.call('GetItem', { TableName: 'identity-us', Key: {} });
    delete process.env._X_AMZN_TRACE_ID;
    await api.call('GetItem', { TableName: 'identity-us', Key: {} });
    await new Promise((r) => setTimeout(r, 100));
    expect(datagrams).toEqual([]);
  });

  it('reads the trace header and the daemon address in the forms Lambda uses', () => {
    expect(traceContext(TRACE)).toEqual({
      traceId: '1-5759e988-bd862e3fe1be46a994272793',
      parentId: '53995c3f42cd8ad8',
    });
    expect(traceContext('Root=1-a-b;Parent=c;Sampled=0')).toBeUndefined();
    expect(traceContext(undefined)).toBeUndefined();
    expect(daemonAddress('169.254.79.129:2000')).toEqual({ host: '169.254.79.129', port: 2000 });
    expect(daemonAddress('tcp:127.0.0.1:2000 udp:127.0.0.2:2001')).toEqual({ host: '127.0.0.2', port: 2001 });
    expect(daemonAddress('nonsense')).toBeUndefined();
  });
});
