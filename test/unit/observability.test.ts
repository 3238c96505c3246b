/**
 * The metrics port and the Lambda wrapper's observability: metrics are in-process counters unless
 * a sink is plugged in; the EMF sink writes one CloudWatch EMF line per dimension set; every
 * request log line carries the Lambda context (request id, cold start, function name) and, once
 * resolved, the tenant and region.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { publicHandler, tenantResolved, type State } from '../../functions/http/lambda.js';
import { logger } from '../../functions/log.js';
import {
  flushMetrics,
  metric,
  since,
  snapshot,
  useMetricSink,
  METRICS_NAMESPACE,
  type MetricName,
} from '../../functions/metrics.js';
import { emfSink } from '../../functions/metrics-emf.js';

afterEach(() => {
  useMetricSink(undefined);
  vi.restoreAllMocks();
});

/** Every line written to stdout while `fn` runs, parsed as JSON. */
async function stdoutLines(fn: () => unknown): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  await fn();
  vi.restoreAllMocks();
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

const event = (routeKey: string): APIGatewayProxyEventV2 =>
  ({
    version: '2.0',
    routeKey,
    rawPath: '/x',
    rawQueryString: '',
    headers: { host: 'acme.us.localhost' },
    isBase64Encoded: false,
    requestContext: {
      http: { method: 'GET', path: '/x', protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 't' },
      requestId: 'api-req',
      routeKey,
      stage: '$default',
    },
  }) as unknown as APIGatewayProxyEventV2;

const context = (awsRequestId: string): Context =>
  ({
    awsRequestId,
    functionName: 'identity-token',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-west-2:123456789012:function:identity-token',
    memoryLimitInMB: '512',
    getRemainingTimeInMillis: () => 10_000,
  }) as unknown as Context;

describe('the metrics port', () => {
  it('counts every metric in process, by name and dimension values, with no sink', () => {
    const before = snapshot();
    metric('TokensIssued', { GrantType: 'refresh_token' });
    metric('TokensIssued', { GrantType: 'refresh_token' });
    metric('FlowsStarted', {});
    expect(since(before)).toEqual({ 'metric:TokensIssued:refresh_token': 2, 'metric:FlowsStarted': 1 });
  });

  it('writes nothing to stdout without a sink (tests and the local server)', async () => {
    const lines = await stdoutLines(() => {
      metric('Lockouts', {});
      flushMetrics();
    });
    expect(lines).toEqual([]);
  });

  it('the EMF sink writes one EMF line per dimension set, then nothing until more arrives', async () => {
    useMetricSink(emfSink());
    const lines = await stdoutLines(() => {
      metric('ChallengesFailed', { Method: 'EMAIL_OTP' });
      metric('ChallengesFailed', { Method: 'EMAIL_OTP' });
      metric('ChallengesSucceeded', { Method: 'PASSKEY' });
      metric('Lockouts', {});
      flushMetrics();
      flushMetrics(); // nothing pending: no line, no warning
    });
    expect(lines).toHaveLength(3);
    const byName = (name: MetricName) => lines.find((l) => name in l)!;
    const failed = byName('ChallengesFailed');
    expect(failed).toMatchObject({ ChallengesFailed: 2, Method: 'EMAIL_OTP', service: 'identity' });
    const aws = failed._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
    expect(aws.CloudWatchMetrics[0]!.Namespace).toBe(METRICS_NAMESPACE);
    expect(aws.CloudWatchMetrics[0]!.Dimensions[0]!.sort()).toEqual(['Method', 'service']);
    expect(byName('ChallengesSucceeded')).toMatchObject({ ChallengesSucceeded: 1, Method: 'PASSKEY' });
    expect(byName('Lockouts')).toMatchObject({ Lockouts: 1 });
    expect(byName('Lockouts')).not.toHaveProperty('Method');
  });
});

describe('the Lambda wrapper', () => {
  it('logs the Lambda context on every request and the tenant once resolved, counts 5xx by route and flushes', async () => {
    const added: [string, Record<string, string>][] = [];
    let flushes = 0;
    useMetricSink({ add: (name, dims) => added.push([name, dims]), flush: () => void flushes++ });
    logger.setLogLevel('INFO');
    const failing = publicHandler(async () => ({ status: 503, headers: {}, body: '' }));
    const tenantAware = publicHandler(async () => ({ status: 200, headers: {}, body: '' }));
    const lines = await stdoutLines(async () => {
      await failing(event('POST /oidc/token'), context('req-1'));
      await tenantAware(event('GET /health'), context('req-2'));
    });
    logger.setLogLevel('WARN');
    const requests = lines.filter((l) => l.message === 'request');
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({
      function_request_id: 'req-1',
      function_name: 'identity-token',
      status: 503,
    });
    expect(typeof requests[0]!.cold_start).toBe('boolean');
    expect(requests[1]).toMatchObject({ function_request_id: 'req-2', status: 200, cold_start: false });
    expect(added).toEqual([['ServerErrors', { Route: 'POST /oidc/token' }]]);
    expect(flushes).toBe(2);
  });

  it('appends tenant and region to later lines of the invocation, and forgets them at the next', async () => {
    logger.setLogLevel('INFO');
    const withTenant = publicHandler(async () => {
      tenantResolved({
        tenant: { tenant: { slug: 'acme' }, region: 'eu' },
      } as unknown as State);
      logger.info('inside');
      return { status: 200, headers: {}, body: '' };
    });
    const plain = publicHandler(async () => ({ status: 200, headers: {}, body: '' }));
    const lines = await stdoutLines(async () => {
      await withTenant(event('GET /a'), context('req-3'));
      await plain(event('GET /b'), context('req-4'));
    });
    logger.setLogLevel('WARN');
    expect(lines.find((l) => l.message === 'inside')).toMatchObject({ tenant: 'acme', region: 'eu' });
    const last = lines.filter((l) => l.message === 'request').at(-1)!;
    expect(last.function_request_id).toBe('req-4');
    expect(last).not.toHaveProperty('tenant');
  });
});
