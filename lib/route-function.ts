import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '../functions/env-names.js';
import type { Permission, Route } from '../functions/routes.js';
import { BUNDLE } from './bundling.js';
import { sourceMapsOf } from './context.js';
import type { LogoutDelivery } from './logout-delivery.js';
import type { MailSender } from './mail.js';
import type { SmsSender } from './sms.js';
import type { SecretsKey } from './secrets-key.js';
import type { SigningKey } from './signing-key.js';
import type { IdentityTable } from './table.js';

/** Why the X-Ray statement of every function role names `*` (cdk-nag AwsSolutions-IAM5). */
export const XRAY_WILDCARD_REASON =
  'Lambda active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which X-Ray does not scope ' +
  'to resources (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html): ' +
  'the statement names these two actions only, on "*".';

/** The repository root: entries, lockfile and tsconfig are found from here, wherever cdk runs. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * How a route is bundled: `lib/bundling.ts`'s settings (what `npm run bundle-report` measures),
 * with source maps only when asked for (context `sourceMaps`).
 */
export function routeBundling(sourceMaps: boolean): BundlingOptions {
  return {
    // OutputFormat's values are esbuild's format names.
    format: BUNDLE.format as OutputFormat,
    target: BUNDLE.target,
    mainFields: [...BUNDLE.mainFields],
    banner: BUNDLE.banner,
    minify: BUNDLE.minify,
    sourceMap: sourceMaps,
    ...(sourceMaps ? { sourcesContent: false } : {}),
    // The SDK version the tests ran against, not whatever the runtime ships.
    bundleAwsSDK: true,
    tsconfig: `${PROJECT_ROOT}tsconfig.json`,
    forceDockerBundling: false,
  };
}

export interface RouteFunctionProps {
  route: Route;
  table: IdentityTable;
  signingKey: SigningKey;
  secretsKey: SecretsKey;
  /** Present when the region sends mail (context `mailFrom`). */
  mail: MailSender | undefined;
  /** Present when the region sends SMS (context `smsOriginationIdentity`). */
  sms?: SmsSender;
  /** Environment shared by every function of the region. */
  environment: Record<string, string>;
  /** The back-channel logout queue (permission `queue:logout`). */
  logoutDelivery?: LogoutDelivery;
}

/**
 * One Lambda function for one entry of the route table: `functions/handlers/<handler>.ts`, bundled
 * locally by the project's esbuild (no Docker) into a minified ESM file (`lib/bundling.ts`; source
 * maps only with context `sourceMaps`), on arm64 Node.js 22. Its role holds exactly what the
 * entry's `permissions` name, plus writing to its own log group.
 */
export class RouteFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: RouteFunctionProps) {
    super(scope, id);
    const { route } = props;
    const sourceMaps = sourceMapsOf(this.node);

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // An own role instead of the default one: no AWS managed policy, nothing beyond the entry's needs.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Identity route ${route.id}: ${route.permissions.join(', ') || 'no data access'}`,
    });
    // CreateLogStream/PutLogEvents on this log group's streams only (Lambda names streams itself).
    this.logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, 'Function', {
      description: `${route.methods.join('|')} ${route.path}: ${route.purpose}`.slice(0, 256),
      entry: `${PROJECT_ROOT}functions/handlers/${route.handler}.ts`,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(10),
      role: this.role,
      logGroup: this.logGroup,
      // X-Ray active tracing by Lambda itself, no Tracer in the bundle (docs/architecture.md, Observability).
      tracing: Tracing.ACTIVE,
      environment: {
        ...props.environment,
        // Source-mapped stack traces cost every cold start: only with context sourceMaps=true.
        ...(sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
      },
      bundling: routeBundling(sourceMaps),
    });

    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'nodejs22.x is pinned deliberately: the bundle is built for node22 (esbuild target) and the code is ' +
        'developed and tested on Node 20/22, not 24; moving to nodejs24.x is a planned upgrade with its own test run.',
    });

    for (const permission of route.permissions) grant(permission, this.role, props);
    // Active tracing grants xray:PutTraceSegments and xray:PutTelemetryRecords, which X-Ray only
    // allows on "*" (no resource-level permissions): the one wildcard in the stack.
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: XRAY_WILDCARD_REASON,
    });
  }
}

function grant(permission: Permission, role: Role, props: RouteFunctionProps): void {
  switch (permission) {
    case 'table:read':
      return props.table.grantRead(role);
    case 'table:write':
      return props.table.grantWrite(role);
    case 'kms:sign':
      // SIGNER=tenant: the tenant's own keys, sealed by the secrets key; SIGNER=kms: the region key.
      if (props.environment[ENV.signer] === 'kms') return props.signingKey.grantSign(role);
      return props.secretsKey.grantSigningKeys(role);
    case 'kms:publicKey':
      return props.signingKey.grantPublicKey(role);
    case 'kms:secrets':
      return props.secretsKey.grantSealAndOpen(role);
    case 'kms:secrets:open':
      return props.secretsKey.grantOpen(role);
    case 'kms:idp-secrets':
      return props.secretsKey.grantIdentityProviderSecrets(role, ['kms:Encrypt']);
    case 'kms:idp-secrets:open':
      return props.secretsKey.grantIdentityProviderSecrets(role, ['kms:Decrypt']);
    case 'ses:send':
      if (!props.mail) {
        throw new Error(
          `Route ${props.route.id} sends mail: set context mailFrom to an SES-verified From address`,
        );
      }
      return props.mail.grantSend(role);
    case 'sms:send':
      // Without an origination identity the functions run with TEXTER=none and send nothing: no grant.
      return props.sms?.grantSend(role);
    case 'queue:logout':
      if (!props.logoutDelivery) throw new Error(`Route ${props.route.id} needs the logout queue`);
      return props.logoutDelivery.grantSend(role);
    default: {
      // A new Permission in functions/routes.ts must be mapped to IAM here before it compiles.
      const unknown: never = permission;
      throw new Error(`No IAM mapping for permission ${String(unknown)}`);
    }
  }
}
