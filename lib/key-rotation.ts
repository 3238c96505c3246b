import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { sourceMapsOf } from './context.js';
import { PROJECT_ROOT, routeBundling, XRAY_WILDCARD_REASON } from './route-function.js';
import type { SecretsKey } from './secrets-key.js';
import type { IdentityTable } from './table.js';

/**
 * The region's scheduled signing-key rotation: not an HTTP route (the route table is for those), a
 * function of its own (`functions/jobs/rotate-keys.ts`) that an EventBridge rule runs once a day.
 * It rotates each tenant whose keys have signed for 30 days (functions/signing/tenant-keys.ts). Its
 * role reads and writes the table and seals and opens tenant signing keys only (never TOTP
 * secrets); it cannot sign with the region's KMS key.
 */
export class KeyRotation extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly rule: Rule;

  constructor(
    scope: Construct,
    id: string,
    props: {
      table: IdentityTable;
      secretsKey: SecretsKey;
      environment: Record<string, string>;
      /** Where a run that failed after its retries goes (lib/monitoring.ts alarms on its depth). */
      deadLetters: IQueue;
    },
  ) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Identity scheduled signing-key rotation: table read/write, tenant signing keys',
    });
    logGroup.grantWrite(this.role);
    props.table.grantRead(this.role);
    props.table.grantWrite(this.role);
    props.secretsKey.grantSigningKeys(this.role);

    this.fn = new NodejsFunction(this, 'Function', {
      description: 'Rotates tenant signing keys that have signed for 30 days (daily)',
      entry: `${PROJECT_ROOT}functions/jobs/rotate-keys.ts`,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      // RSA key generation is the slow part (about 0.3 s a key): minutes for thousands of tenants.
      timeout: Duration.minutes(15),
      role: this.role,
      logGroup,
      tracing: Tracing.ACTIVE,
      // EventBridge invokes asynchronously: Lambda retries a failed run twice, then dead-letters the event.
      retryAttempts: 2,
      deadLetterQueue: props.deadLetters,
      environment: props.environment,
      // Bundled like every route (lib/bundling.ts), so `npm run bundle-report`'s settings hold here too.
      bundling: routeBundling(sourceMapsOf(this.node)),
    });
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'nodejs22.x is pinned deliberately, like every route function (lib/route-function.ts).',
    });

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: XRAY_WILDCARD_REASON,
    });

    this.rule = new Rule(this, 'Daily', {
      description: 'Daily check: rotate tenant signing keys older than 30 days',
      schedule: Schedule.rate(Duration.days(1)),
      // The target's own retries and dead-letter queue cover EventBridge failing to invoke at all.
      targets: [
        new LambdaFunction(this.fn, {
          retryAttempts: 2,
          maxEventAge: Duration.hours(2),
          deadLetterQueue: props.deadLetters,
        }),
      ],
    });
  }
}
