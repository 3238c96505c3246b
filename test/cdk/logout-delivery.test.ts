/**
 * The back-channel logout queue on AWS: an encrypted, TLS-only queue redriven to the region's
 * dead-letter queue after three receives, consumed by its own function ten messages at a time
 * with per-message failures, and sqs:SendMessage for exactly the routes that end sessions.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../functions/env-names.js';
import { routes } from '../../functions/routes.js';
import { regionSettings } from '../../lib/context.js';
import { IdentityStack } from '../../lib/identity-stack.js';
import { CONSUMER_TIMEOUT, MAX_RECEIVE_COUNT } from '../../lib/logout-delivery.js';

const CDK_JSON = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};
const app = new App({ context: { ...CDK_JSON.context, 'aws:cdk:bundling-stacks': [], domain: 'none' } });
const stack = new IdentityStack(app, 'Identity-eu', {
  env: { account: '123456789012', region: 'eu-west-1' },
  settings: regionSettings(app.node, 'eu'),
});
const t = Template.fromStack(stack);
const queueId = stack.getLogicalId(stack.logoutDelivery.queue.node.defaultChild as never);
const dlqId = stack.getLogicalId(stack.deadLetters.queue.node.defaultChild as never);

type Policy = { Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: Statement[] } } };
type Statement = { Action: string | string[]; Resource: unknown };
const actionsOf = (s: Statement) => [s.Action].flat();

/** The logical ids of the roles that may send to the logout queue. */
function sendersOf(): string[] {
  const policies = Object.values(t.findResources('AWS::IAM::Policy')) as Policy[];
  return policies
    .filter((p) =>
      p.Properties.PolicyDocument.Statement.some(
        (s) =>
          actionsOf(s).includes('sqs:SendMessage') &&
          JSON.stringify(s.Resource) === JSON.stringify({ 'Fn::GetAtt': [queueId, 'Arn'] }),
      ),
    )
    .flatMap((p) => p.Properties.Roles.map((r) => r.Ref));
}

describe('back-channel logout queue (lib/logout-delivery.ts)', () => {
  it('is encrypted with SSE-SQS, redrives to the dead-letter queue and outlasts six consumer timeouts', () => {
    t.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: CONSUMER_TIMEOUT.toSeconds() * 6,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
        maxReceiveCount: MAX_RECEIVE_COUNT,
      },
    });
    expect(MAX_RECEIVE_COUNT).toBe(3);
  });

  it('refuses requests without TLS', () => {
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('is consumed by its own function, ten at a time, reporting failures per message', () => {
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FunctionName: { Ref: stack.getLogicalId(stack.logoutDelivery.fn.node.defaultChild as never) },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('back-channel logout'),
      Timeout: CONSUMER_TIMEOUT.toSeconds(),
      TracingConfig: { Mode: 'Active' },
    });
  });

  it('the consumer role reads the queue and touches no table, key or other queue', () => {
    const role = stack.getLogicalId(stack.logoutDelivery.role.node.defaultChild as never);
    const policies = (Object.values(t.findResources('AWS::IAM::Policy')) as Policy[]).filter((p) =>
      p.Properties.Roles.some((r) => r.Ref === role),
    );
    const actions = policies.flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap(actionsOf));
    expect(actions).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']));
    expect(actions.filter((a) => /^(dynamodb|kms|ses|sqs:SendMessage)/.test(a))).toEqual([]);
  });

  it('sqs:SendMessage on the queue goes to exactly the routes with queue:logout, who get its URL', () => {
    const withPermission = routes.filter((r) => r.permissions.includes('queue:logout')).map((r) => r.id);
    expect(withPermission.sort()).toEqual(['EndSession', 'User', 'UserSessions']);
    const expected = withPermission.map((id) =>
      stack.getLogicalId(stack.api.functions.get(id)!.role.node.defaultChild as never),
    );
    expect(sendersOf().sort()).toEqual(expected.sort());
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ENV.logoutQueueUrl]: { Ref: queueId } }) },
    });
  });

  it('the dead-letter queue depth alarm watches the queue the logout queue redrives to', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
    });
  });
});
