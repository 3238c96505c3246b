import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpRoute,
  HttpRouteKey,
  HttpStage,
  IpAddressType,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RegionCode } from '../functions/regions.js';
import type { Route } from '../functions/routes.js';
import { RouteFunction } from './route-function.js';
import type { MailSender } from './mail.js';
import type { SecretsKey } from './secrets-key.js';
import type { SigningKey } from './signing-key.js';
import type { IdentityTable } from './table.js';

/**
 * One access-log line per request, as JSON. Only `$context.path`, never the raw request line or
 * `$context.routeKey` with a query: OAuth puts codes and tokens in query strings, so they stay out.
 */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTimeEpoch',
  method: '$context.httpMethod',
  host: '$context.domainName',
  path: '$context.path',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  latency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
} as const;

/** Stage-wide defaults: per-account limits still apply above these. */
export const THROTTLE = { rateLimit: 200, burstLimit: 400 } as const;

export interface IdentityApiProps {
  code: RegionCode;
  routes: readonly Route[];
  /** Answers what no route matches (API Gateway's `$default` route), like the local server. */
  fallback?: Route;
  table: IdentityTable;
  signingKey: SigningKey;
  secretsKey: SecretsKey;
  mail: MailSender | undefined;
  environment: Record<string, string>;
}

/**
 * The region's HTTP API: one Lambda function per route-table entry and one API route per method of
 * each entry, on a `$default` stage with JSON access logs and throttling defaults. It follows
 * `functions/routes.ts` generically: a new entry there is a new function and routes here.
 */
export class IdentityApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly functions = new Map<string, RouteFunction>();

  constructor(scope: Construct, id: string, props: IdentityApiProps) {
    super(scope, id);

    this.api = new HttpApi(this, 'HttpApi', {
      apiName: `identity-${props.code}`,
      description: `Identity provider, region ${props.code}: tenants on *.${props.code}.<baseDomain>`,
      createDefaultStage: false,
      ipAddressType: IpAddressType.DUAL_STACK,
    });

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      autoDeploy: true,
      throttle: THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });

    const seen = new Set<string>();
    for (const route of props.routes) {
      if (seen.has(route.id)) throw new Error(`Route id ${route.id} appears twice in the route table`);
      seen.add(route.id);
      const fn = new RouteFunction(this, route.id, {
        route,
        table: props.table,
        signingKey: props.signingKey,
        secretsKey: props.secretsKey,
        mail: props.mail,
        environment: props.environment,
      });
      this.functions.set(route.id, fn);
      const httpRoutes = this.api.addRoutes({
        path: route.path,
        methods: route.methods.map((m) => HttpMethod[m]),
        integration: new HttpLambdaIntegration(`${route.id}Integration`, fn.fn),
      });
      for (const httpRoute of httpRoutes) {
        Validations.of(httpRoute).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: route.tenant
            ? 'OAuth 2.0 / OpenID Connect endpoint: discovery, JWKS and the authorization endpoint must be ' +
              'reachable without credentials by specification, and every other endpoint authenticates in its ' +
              'handler with tenant-scoped, protocol-defined credentials (tenant secret over HTTP Basic, client ' +
              'authentication per RFC 6749, bearer tokens) that an API Gateway authorizer does not model.'
            : 'Unauthenticated liveness probe: it touches no tenant data and no AWS service.',
        });
      }
    }
    if (props.fallback) this.addFallback(props.fallback, props);
  }

  /** `$default`: the fallback function answers unmatched requests with JSON 404/405. */
  private addFallback(route: Route, props: IdentityApiProps): void {
    const fn = new RouteFunction(this, route.id, {
      route,
      table: props.table,
      signingKey: props.signingKey,
      secretsKey: props.secretsKey,
      mail: props.mail,
      environment: props.environment,
    });
    this.functions.set(route.id, fn);
    const httpRoute = new HttpRoute(this, 'DefaultRoute', {
      httpApi: this.api,
      routeKey: HttpRouteKey.DEFAULT,
      integration: new HttpLambdaIntegration(`${route.id}Integration`, fn.fn),
    });
    Validations.of(httpRoute).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'Catch-all that only answers 404 or 405 in JSON: it touches no tenant data and no AWS service.',
    });
  }

  /** `https://<api id>.execute-api.<region>.amazonaws.com/` */
  get url(): string {
    return this.stage.url;
  }
}
