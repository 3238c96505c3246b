import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { sourceMapsOf } from './context.js';
import { PROJECT_ROOT, routeBundling, XRAY_WILDCARD_REASON } from './route-function.js';

/**
 * The consumer's limit: a batch of ten deliveries in parallel, each bounded at 5 s. Kept short on
 * purpose: a failed message is received again only after the visibility timeout (six times this),
 * and a logout token lives 120 s, so both retries (at about 48 s and 96 s) must come before it expires.
 */
export const CONSUMER_TIMEOUT = Duration.seconds(8);
/** Receives before a message goes to the dead-letter queue: one delivery and two retries. */
export const MAX_RECEIVE_COUNT = 3;

/**
 * Back-Channel Logout 1.0 on AWS: the routes that end sessions put one message per logout token on
 * this queue (`functions/adapters/sqs-logout.ts`, permission `queue:logout`) and answer at once; a
 * function of its own (`functions/jobs/deliver-logout.ts`) POSTs them to the relying parties. A
 * failed delivery is reported per message (ReportBatchItemFailures), so only it is received again,
 * after the visibility timeout; after `MAX_RECEIVE_COUNT` receives it goes to the region's
 * dead-letter queue, whose depth lib/monitoring.ts alarms on. The consumer's role reads the queue
 * only: no table, no key; the tokens arrive signed.
 */
export class LogoutDelivery extends Construct {
  readonly queue: Queue;
  readonly fn: NodejsFunction;
  readonly role: Role;

  constructor(
    scope: Construct,
    id: string,
    props: { deadLetters: IQueue; environment: Record<string, string> },
  ) {
    super(scope, id);
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Lambda's advice for an SQS event source: at least six times the function's timeout
      // (Lambda Developer Guide, "Using Lambda with Amazon SQS", queue configuration).
      visibilityTimeout: Duration.seconds(CONSUMER_TIMEOUT.toSeconds() * 6),
      // A logout token lives two minutes: a message older than an hour has no use left.
      retentionPeriod: Duration.hours(1),
      deadLetterQueue: { queue: props.deadLetters, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    const logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Identity back-channel logout delivery: reads the logout queue only',
    });
    logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, 'Function', {
      description: 'Delivers back-channel logout tokens from the logout queue to relying parties',
      entry: `${PROJECT_ROOT}functions/jobs/deliver-logout.ts`,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 256,
      timeout: CONSUMER_TIMEOUT,
      role: this.role,
      logGroup,
      tracing: Tracing.ACTIVE,
      environment: props.environment,
      // Bundled like every route (lib/bundling.ts), so `npm run bundle-report`'s settings hold here too.
      bundling: routeBundling(sourceMapsOf(this.node)),
    });
    // Grants the role receive, delete and change-visibility on this queue only.
    this.fn.addEventSource(new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }));
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'nodejs22.x is pinned deliberately, like every route function (lib/route-function.ts).',
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: XRAY_WILDCARD_REASON,
    });
  }

  /** sqs:SendMessage (which also authorizes SendMessageBatch) on this queue, nothing else. */
  grantSend(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }),
    );
  }
}
