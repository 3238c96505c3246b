/**
 * What an operator runs the region with: alarms to an SNS topic, one dashboard, the dead-letter
 * queue of the scheduled key rotation, X-Ray active tracing on every function, and the SES
 * identity with Easy DKIM and a configuration set with reputation metrics.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { METRICS, METRICS_NAMESPACE } from '../../functions/metrics.js';
import { fallbackRoute, routes } from '../../functions/routes.js';
import { regionSettings } from '../../lib/context.js';
import { IdentityStack } from '../../lib/identity-stack.js';
import { THRESHOLDS } from '../../lib/monitoring.js';

const CDK_JSON = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};
const ZONE = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', hostedZoneName: 'id.example.com' };

type Resource = { Type: string; Properties: Record<string, unknown> };
type AlarmProps = {
  AlarmName: string;
  AlarmActions: unknown[];
  OKActions: unknown[];
  Namespace?: string;
  MetricName?: string;
  Statistic?: string;
  ExtendedStatistic?: string;
  Threshold: number;
  Dimensions?: { Name: string; Value: unknown }[];
  Metrics?: {
    Id: string;
    Expression?: string;
    MetricStat?: { Metric: { MetricName: string; Dimensions: { Name: string; Value: unknown }[] } };
  }[];
};

function stackFor(context: Record<string, unknown> = {}, table = routes): Template {
  // No hosted zone unless a test gives one: synthesized on purpose without a domain.
  const app = new App({
    context: { ...CDK_JSON.context, 'aws:cdk:bundling-stacks': [], domain: 'none', ...context },
  });
  const stack = new IdentityStack(app, 'Identity-eu', {
    env: { account: '123456789012', region: 'eu-west-1' },
    settings: regionSettings(app.node, 'eu'),
    ...(table === routes ? {} : { routes: table }),
  });
  return Template.fromStack(stack);
}

const plain = stackFor();
const alarms = (t: Template): Map<string, AlarmProps> =>
  new Map(
    (Object.values(t.findResources('AWS::CloudWatch::Alarm')) as Resource[]).map((r) => {
      const p = r.Properties as AlarmProps;
      return [p.AlarmName.replace(/^Identity-eu-/, ''), p];
    }),
  );
const dims = (d: { Name: string; Value: unknown }[] = []) =>
  Object.fromEntries(d.map((x) => [x.Name, x.Value]));

describe('alarms', () => {
  const all = alarms(plain);
  const topicId = Object.keys(plain.findResources('AWS::SNS::Topic'))[0]!;

  it('cover 5xx rate, p99 of the flow, Lambda, DynamoDB, KMS, SES and dead letters, each to the SNS topic', () => {
    const functions = Object.keys(plain.findResources('AWS::Lambda::Function')).filter(
      (id) => !/LogRetention|BucketNotifications|CustomResource/.test(id),
    ).length;
    const lambdaGroups = [...Array(Math.ceil(functions / 10)).keys()];
    expect([...all.keys()].sort()).toEqual(
      [
        'Api5xxRate',
        'LatencyP99InitAuthPOST',
        'LatencyP99AuthorizeGET',
        'LatencyP99AuthorizePOST',
        'LatencyP99TokenPOST',
        // Every function, ten to an alarm (the metric math limit).
        ...lambdaGroups.flatMap((i) => [`LambdaErrors${i}`, `LambdaThrottles${i}`]),
        'DynamoThrottles',
        'DynamoSystemErrors',
        'KmsErrors',
        'DeadLetters',
        'SesBounceRate',
        'SesComplaintRate',
      ].sort(),
    );
    for (const [name, a] of all) {
      expect(a.AlarmActions, name).toEqual([{ Ref: topicId }]);
      expect(a.OKActions, name).toEqual([{ Ref: topicId }]);
    }
  });

  it('read the REST API metrics by ApiName and Stage, latency per resource and method', () => {
    const rate = all.get('Api5xxRate')!;
    expect(rate).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: '5XXError', Statistic: 'Average' });
    expect(rate.Threshold).toBe(THRESHOLDS.api5xxRate);
    expect(dims(rate.Dimensions)).toEqual({ ApiName: 'identity-eu', Stage: 'live' });
    const token = all.get('LatencyP99TokenPOST')!;
    expect(token).toMatchObject({ MetricName: 'Latency', ExtendedStatistic: 'p99' });
    expect(dims(token.Dimensions)).toEqual({
      ApiName: 'identity-eu',
      Stage: 'live',
      Resource: '/oidc/token',
      Method: 'POST',
    });
    expect(dims(all.get('LatencyP99InitAuthPOST')!.Dimensions).Resource).toBe('/init-auth');
  });

  it('sum Lambda errors and throttles of every function, ten to an alarm', () => {
    const fnIds = Object.keys(plain.findResources('AWS::Lambda::Function'));
    // the routes, the fallback, the key rotation, the logout queue's consumer
    expect(fnIds).toHaveLength(routes.length + 3);
    for (const kind of ['Errors', 'Throttles']) {
      const watched = [...all]
        .filter(([name]) => name.startsWith(`Lambda${kind}`))
        .flatMap(([, a]) => a.Metrics!.filter((m) => m.MetricStat))
        .map((m) => {
          expect(m.MetricStat!.Metric.MetricName).toBe(kind);
          return JSON.stringify(dims(m.MetricStat!.Metric.Dimensions).FunctionName);
        });
      expect(watched.sort()).toEqual(fnIds.map((id) => JSON.stringify({ Ref: id })).sort());
    }
    for (const [name, a] of all)
      if (a.Metrics) expect(a.Metrics.filter((m) => m.MetricStat).length, name).toBeLessThanOrEqual(10);
  });

  it('read KMS errors from the functions own EMF metric, a name the metrics port emits', () => {
    const kms = all.get('KmsErrors')!;
    expect(kms).toMatchObject({ Namespace: METRICS_NAMESPACE, MetricName: 'KmsErrors', Threshold: 0 });
    expect(dims(kms.Dimensions)).toEqual({ service: 'identity' });
    expect(METRICS.KmsErrors).toEqual([]);
  });

  it('read DynamoDB throttles and system errors of the table, SES reputation and the queue depth', () => {
    const tableId = Object.keys(plain.findResources('AWS::DynamoDB::Table'))[0]!;
    for (const name of ['DynamoThrottles', 'DynamoSystemErrors']) {
      const stats = all.get(name)!.Metrics!.filter((m) => m.MetricStat);
      expect(stats.length, name).toBeGreaterThan(0);
      for (const m of stats)
        expect(dims(m.MetricStat!.Metric.Dimensions).TableName).toEqual({ Ref: tableId });
    }
    expect(all.get('SesBounceRate')).toMatchObject({
      Namespace: 'AWS/SES',
      MetricName: 'Reputation.BounceRate',
    });
    expect(all.get('SesComplaintRate')).toMatchObject({
      Namespace: 'AWS/SES',
      MetricName: 'Reputation.ComplaintRate',
    });
    const queueId = Object.keys(plain.findResources('AWS::SQS::Queue'))[0]!;
    const dlq = all.get('DeadLetters')!;
    expect(dlq).toMatchObject({ Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible' });
    expect(dims(dlq.Dimensions).QueueName).toEqual({ 'Fn::GetAtt': [queueId, 'QueueName'] });
  });

  it('mail an operator only when alarmEmail is given, and refuse a malformed one', () => {
    plain.resourceCountIs('AWS::SNS::Subscription', 0);
    const mailed = stackFor({ alarmEmail: 'oncall@example.com' });
    mailed.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
    expect(() => stackFor({ alarmEmail: 'not an address' })).toThrow(/alarmEmail must be an email address/);
  });

  it('a region without mail has no SES alarms', () => {
    const noMail = alarms(
      stackFor(
        { mailFrom: '' },
        routes.filter((r) => !r.permissions.includes('ses:send')),
      ),
    );
    expect(noMail.has('SesBounceRate')).toBe(false);
    expect(noMail.has('DeadLetters')).toBe(true);
  });
});

describe('dashboard', () => {
  it('one per region, with the API, Lambda, DynamoDB, KMS, SES, queue and business metrics', () => {
    const dashboards = Object.values(plain.findResources('AWS::CloudWatch::Dashboard')) as Resource[];
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]!.Properties.DashboardName).toBe('identity-eu');
    const body = JSON.stringify(dashboards[0]!.Properties.DashboardBody);
    for (const name of Object.keys(METRICS)) expect(body, name).toContain(name);
    for (const needle of [
      '5XXError',
      'Latency',
      'Reputation.BounceRate',
      'ApproximateNumberOfMessagesVisible',
      'ThrottledRequests',
      'SystemErrors',
      'alarm',
    ])
      expect(body, needle).toContain(needle);
  });
});

describe('tracing and dead letters', () => {
  it('every function traces actively with X-Ray, and may write traces and nothing else on "*"', () => {
    const fns = Object.values(plain.findResources('AWS::Lambda::Function')) as Resource[];
    for (const f of fns) expect(f.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    const statements = (Object.values(plain.findResources('AWS::IAM::Policy')) as Resource[]).flatMap(
      (p) =>
        (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] })
          .Statement,
    );
    const wildcard = statements.filter((s) => s.Resource === '*');
    expect(wildcard.length).toBe(fns.length);
    for (const s of wildcard)
      expect([s.Action].flat().sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  });

  it('the key rotation dead-letters failed runs to an encrypted queue kept 14 days', () => {
    // The dead-letter queue has none of its own; the logout queue (test/cdk/logout-delivery.test.ts) redrives to it.
    const queues = (Object.entries(plain.findResources('AWS::SQS::Queue')) as [string, Resource][]).filter(
      ([, q]) => !q.Properties.RedrivePolicy,
    );
    expect(queues).toHaveLength(1);
    const [queueId, queue] = queues[0]!;
    expect(queue.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    const queueArn = { 'Fn::GetAtt': [queueId, 'Arn'] };
    plain.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('Rotates tenant signing keys'),
      DeadLetterConfig: { TargetArn: queueArn },
    });
    plain.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2 });
    plain.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          DeadLetterConfig: { Arn: queueArn },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
        }),
      ],
    });
    // TLS only, and EventBridge may send to it.
    const policy = JSON.stringify(plain.findResources('AWS::SQS::QueuePolicy'));
    expect(policy).toContain('aws:SecureTransport');
    expect(policy).toContain('events.amazonaws.com');
  });
});

describe('SES', () => {
  it('the mail domain is an SES identity with 2048-bit Easy DKIM and a configuration set with reputation metrics', () => {
    plain.hasResourceProperties('AWS::SES::ConfigurationSet', {
      ReputationOptions: { ReputationMetricsEnabled: true },
      SuppressionOptions: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
    });
    const setId = Object.keys(plain.findResources('AWS::SES::ConfigurationSet'))[0]!;
    plain.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: 'id.example.com',
      DkimAttributes: { SigningEnabled: true },
      DkimSigningAttributes: { NextSigningKeyLength: 'RSA_2048_BIT' },
      ConfigurationSetAttributes: { ConfigurationSetName: { Ref: setId } },
    });
  });

  it('with a zone that holds the domain, the three DKIM CNAMEs are in Route 53; else they are outputs', () => {
    const zoned = stackFor(ZONE);
    const cnames = Object.values(
      zoned.findResources('AWS::Route53::RecordSet', { Properties: { Type: 'CNAME' } }),
    ) as Resource[];
    expect(cnames).toHaveLength(3);
    const identityId = Object.keys(zoned.findResources('AWS::SES::EmailIdentity'))[0]!;
    cnames.forEach((r, i) =>
      expect(r.Properties).toMatchObject({
        HostedZoneId: ZONE.hostedZoneId,
        Name: { 'Fn::GetAtt': [identityId, `DkimDNSTokenName${i + 1}`] },
        ResourceRecords: [{ 'Fn::GetAtt': [identityId, `DkimDNSTokenValue${i + 1}`] }],
      }),
    );
    expect(Object.keys(zoned.toJSON().Outputs).filter((o) => o.startsWith('MailDkimRecord'))).toEqual([]);

    // A zone for eu.id.example.com cannot hold id.example.com: the records are printed instead.
    const elsewhere = stackFor({
      hostedZones: { eu: { id: 'Z0123456789ABCDEFGHIJ', name: 'eu.id.example.com' } },
    });
    elsewhere.resourceCountIs('AWS::SES::EmailIdentity', 1);
    expect(
      Object.keys(elsewhere.findResources('AWS::Route53::RecordSet', { Properties: { Type: 'CNAME' } })),
    ).toEqual([]);
    expect(
      Object.keys(elsewhere.toJSON().Outputs)
        .filter((o) => o.startsWith('MailDkimRecord'))
        .sort(),
    ).toEqual(['MailDkimRecord1', 'MailDkimRecord2', 'MailDkimRecord3']);
  });

  it('a mail-sending function may send through the identity and the configuration set only', () => {
    const setId = Object.keys(plain.findResources('AWS::SES::ConfigurationSet'))[0]!;
    const statements = (Object.values(plain.findResources('AWS::IAM::Policy')) as Resource[]).flatMap(
      (p) =>
        (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] })
          .Statement,
    );
    const send = statements.filter((s) => [s.Action].flat().includes('ses:SendEmail'));
    expect(send.length).toBeGreaterThan(0);
    for (const s of send) {
      const resources = JSON.stringify(s.Resource);
      expect(resources).toContain('identity/id.example.com');
      expect(resources).toContain(setId);
      expect([s.Resource].flat()).toHaveLength(3);
    }
  });
});

it('the fallback route is monitored like the others', () => {
  expect(fallbackRoute.id).toBe('NotFound');
  const watched = JSON.stringify([...alarms(plain).values()].filter((a) => a.Metrics));
  const fnIds = Object.keys(plain.findResources('AWS::Lambda::Function')).filter((id) =>
    id.includes('NotFound'),
  );
  expect(fnIds).toHaveLength(1);
  expect(watched).toContain(fnIds[0]!);
});
