import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogField as F,
  AccessLogFormat,
  EndpointType,
  Integration,
  IntegrationType,
  IpAddressType,
  LambdaIntegration,
  LogGroupLogDestination,
  Method,
  Resource,
  ResponseType,
  RestApi,
  type IResource,
  type MethodDeploymentOptions,
  type Stage,
} from 'aws-cdk-lib/aws-apigateway';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LATENCY_ROUTES } from './monitoring.js';
import type { RegionCode } from '../functions/regions.js';
import type { Route } from '../functions/routes.js';
import { RouteFunction } from './route-function.js';
import type { LogoutDelivery } from './logout-delivery.js';
import type { MailSender } from './mail.js';
import type { SmsSender } from './sms.js';
import type { SecretsKey } from './secrets-key.js';
import type { SigningKey } from './signing-key.js';
import type { IdentityTable } from './table.js';
import { EDGE_LIMITS, RATE_LIMITED_BODY } from './waf.js';

/**
 * One access-log line per request, as JSON (REST API `$context` variables, API Gateway Developer
 * Guide, "Variables for access logging"). Only `$context.path`, never the query string or a
 * request override: OAuth puts codes and tokens in query strings, so they stay out.
 */
export const ACCESS_LOG_FIELDS = {
  requestId: F.contextRequestId(),
  ip: F.contextIdentitySourceIp(),
  requestTime: F.contextRequestTimeEpoch(),
  method: F.contextHttpMethod(),
  host: F.contextDomainName(),
  path: F.contextPath(),
  // What an HTTP API calls the route key: the method and the matched resource template.
  routeKey: `${F.contextHttpMethod()} ${F.contextResourcePath()}`,
  status: F.contextStatus(),
  protocol: F.contextProtocol(),
  responseLength: F.contextResponseLength(),
  latency: F.contextResponseLatency(),
  integrationLatency: F.contextIntegrationLatency(),
  integrationError: F.contextIntegrationErrorMessage(),
  waf: F.contextWafResponseCode(),
  traceId: F.contextXrayTraceId(),
} as const;

/** Stage-wide defaults: per-account limits still apply above these. */
export const THROTTLE = EDGE_LIMITS.stage;

/** Routes throttled harder than the stage, per method: the federated start, tokens, hosted code steps. */
export const STRICT_ROUTES = [
  { path: '/init-auth', method: 'POST' },
  { path: '/oidc/token', method: 'POST' },
  { path: '/interaction/{id}/{step}', method: 'POST' },
] as const;

/** The stage name: invisible to clients, who reach the stage through the custom domain's root mapping. */
export const STAGE_NAME = 'live';

export interface IdentityApiProps {
  code: RegionCode;
  routes: readonly Route[];
  /** Answers what no route matches (`{proxy+}`, and any method a path does not have), like the local server. */
  fallback?: Route;
  table: IdentityTable;
  signingKey: SigningKey;
  secretsKey: SecretsKey;
  mail: MailSender | undefined;
  /** Present when the region sends SMS (context `smsOriginationIdentity`). */
  sms?: SmsSender | undefined;
  environment: Record<string, string>;
  logoutDelivery?: LogoutDelivery;
}

const NO_AUTHORIZER_REASON = (route: Route | undefined): string =>
  route?.tenant
    ? 'OAuth 2.0 / OpenID Connect endpoint: discovery, JWKS and the authorization endpoint must be ' +
      'reachable without credentials by specification, and every other endpoint authenticates in its ' +
      'handler with tenant-scoped, protocol-defined credentials (tenant secret over HTTP Basic, client ' +
      'authentication per RFC 6749, bearer tokens) that an API Gateway authorizer does not model.'
    : route
      ? 'Unauthenticated liveness probe: it touches no tenant data and no AWS service.'
      : 'Catch-all that only answers 404 or 405 in JSON: it touches no tenant data and no AWS service.';

/**
 * The region's API Gateway REST API (regional endpoint, so AWS WAF can be associated with its stage
 * and sees the caller's own address): one Lambda function per route-table entry and one method per
 * method of each entry, Lambda proxy integrations (payload format 1.0), on one stage with JSON access
 * logs, X-Ray tracing, stage throttling and stricter method throttling. The default `execute-api`
 * endpoint is disabled: tenants are resolved from the Host header, so only the custom domain serves.
 * It follows `functions/routes.ts` generically: a new entry there is a new function and methods here.
 */
export class IdentityApi extends Construct {
  readonly restApi: RestApi;
  readonly stage: Stage;
  readonly accessLogs: LogGroup;
  readonly functions = new Map<string, RouteFunction>();

  constructor(scope: Construct, id: string, props: IdentityApiProps) {
    super(scope, id);

    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const methodOptions: Record<string, MethodDeploymentOptions> = {};
    for (const { path, method } of STRICT_ROUTES) {
      if (!props.routes.some((r) => r.path === path && (r.methods as string[]).includes(method))) continue;
      methodOptions[`${path}/${method}`] = {
        throttlingRateLimit: EDGE_LIMITS.strictMethods.rateLimit,
        throttlingBurstLimit: EDGE_LIMITS.strictMethods.burstLimit,
      };
    }
    // Per-method CloudWatch metrics only where an alarm reads them (lib/monitoring.ts: p99 of the
    // flow's steps): detailed metrics are billed as custom metrics, seven per method.
    for (const route of props.routes.filter((r) => (LATENCY_ROUTES as readonly string[]).includes(r.id))) {
      for (const method of route.methods) {
        const key = `${route.path}/${method}`;
        methodOptions[key] = { ...methodOptions[key], metricsEnabled: true };
      }
    }

    this.restApi = new RestApi(this, 'RestApi', {
      restApiName: `identity-${props.code}`,
      description: `Identity provider, region ${props.code}: tenants on *.${props.code}.<baseDomain>`,
      endpointConfiguration: { types: [EndpointType.REGIONAL], ipAddressType: IpAddressType.DUAL_STACK },
      disableExecuteApiEndpoint: true,
      // No account-wide CloudWatch role (AWS::ApiGateway::Account is one per account and region).
      cloudWatchRole: false,
      deployOptions: {
        stageName: STAGE_NAME,
        description: 'Every tenant of the region, through the custom domain',
        tracingEnabled: true,
        throttlingRateLimit: EDGE_LIMITS.stage.rateLimit,
        throttlingBurstLimit: EDGE_LIMITS.stage.burstLimit,
        methodOptions,
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    this.stage = this.restApi.deploymentStage;
    acknowledgeApiFindings(this.restApi);
    // A throttled request gets the same answer as a WAF rate limit, not API Gateway's own body.
    this.restApi.addGatewayResponse('Throttled', {
      type: ResponseType.THROTTLED,
      statusCode: '429',
      responseHeaders: { 'retry-after': "'1'" },
      templates: { 'application/json': RATE_LIMITED_BODY },
    });

    const seen = new Set<string>();
    for (const route of props.routes) {
      if (seen.has(route.id)) throw new Error(`Route id ${route.id} appears twice in the route table`);
      seen.add(route.id);
      const fn = this.routeFunction(route, props);
      // Permissions scoped to each method and path; no test-invoke grant (nobody tests from the console).
      const integration = new LambdaIntegration(fn.fn, { allowTestInvoke: false });
      const resource = this.restApi.root.resourceForPath(route.path);
      for (const m of route.methods) acknowledgeNoAuthorizer(resource.addMethod(m, integration), route);
    }
    if (props.fallback) this.addFallback(props.fallback, props);
  }

  private routeFunction(route: Route, props: IdentityApiProps): RouteFunction {
    const fn = new RouteFunction(this, route.id, {
      route,
      table: props.table,
      signingKey: props.signingKey,
      secretsKey: props.secretsKey,
      mail: props.mail,
      ...(props.sms ? { sms: props.sms } : {}),
      environment: props.environment,
      ...(props.logoutDelivery ? { logoutDelivery: props.logoutDelivery } : {}),
    });
    this.functions.set(route.id, fn);
    return fn;
  }

  /**
   * The fallback function answers everything no method matches, as the local server does: `ANY /`,
   * `ANY /{proxy+}` (unknown paths: 404), and `ANY` on every resource of the table (a known path with
   * another method: 405 with `Allow`; REST APIs would otherwise answer 403 "Missing Authentication
   * Token"). One Lambda permission for the API covers all these methods, so the function's resource
   * policy stays small however many resources the table has.
   */
  private addFallback(route: Route, props: IdentityApiProps): void {
    const fn = this.routeFunction(route, props).fn;
    const integration = new Integration({
      type: IntegrationType.AWS_PROXY,
      integrationHttpMethod: 'POST',
      uri: Stack.of(this).formatArn({
        service: 'apigateway',
        account: 'lambda',
        resource: 'path/2015-03-31/functions',
        resourceName: `${fn.functionArn}/invocations`,
      }),
    });
    fn.addPermission('ApiInvoke', {
      principal: new ServicePrincipal('apigateway.amazonaws.com'),
      sourceArn: this.restApi.arnForExecuteApi('*', '/*', STAGE_NAME),
    });
    const resources = [
      this.restApi.root,
      ...this.restApi.root.node.findAll().filter((c): c is Resource => c instanceof Resource),
    ];
    for (const resource of resources) {
      if (!hasMethod(resource, 'ANY')) acknowledgeNoAuthorizer(resource.addMethod('ANY', integration));
    }
    acknowledgeNoAuthorizer(this.restApi.root.addResource('{proxy+}').addMethod('ANY', integration));
  }

  /** `https://<api id>.execute-api.<region>.amazonaws.com/live/` (disabled: answers 403). */
  get url(): string {
    return this.restApi.url;
  }
}

function hasMethod(resource: IResource, method: string): boolean {
  return resource.node.children.some((c) => c instanceof Method && c.httpMethod === method);
}

function acknowledgeNoAuthorizer(method: Method, route?: Route): void {
  for (const id of ['AwsSolutions-APIG4', 'AwsSolutions-COG4']) {
    Validations.of(method).acknowledge({ id, reason: NO_AUTHORIZER_REASON(route) });
  }
}

function acknowledgeApiFindings(api: RestApi): void {
  Validations.of(api).acknowledge({
    id: 'AwsSolutions-APIG2',
    reason:
      'Every handler validates its own input with the zod schemas the OpenAPI document is generated from, ' +
      'and answers in the endpoint error contract (OAuth JSON, Azure AD B2C fields, hosted pages); an API ' +
      'Gateway request validator would answer in its own format and duplicate those schemas as models.',
  });
  Validations.of(api.deploymentStage).acknowledge({
    id: 'AwsSolutions-APIG6',
    reason:
      'Execution logging needs the account-wide API Gateway CloudWatch role (one AWS::ApiGateway::Account per ' +
      'account and region, shared with every other API there); the stage writes JSON access logs of every ' +
      'request and each function logs its own requests and errors, with X-Ray tracing on the stage.',
  });
}
