import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import { Construct } from 'constructs';
import type { RegionCode } from '../functions/regions.js';

/**
 * Every limit the edge enforces, in one place: `lib/waf.ts` and `lib/api.ts` build the stack from
 * it, `docs/security.md` states the same numbers, and `test/cdk/edge.test.ts` reads them from here.
 *
 * WAF rate-based rules count requests per aggregation key over a sliding window
 * (`windowSeconds`, one of 60/120/300/600 s) and block while the count is over the limit (AWS WAF
 * Developer Guide, "Rate-based rule statement"). API Gateway throttles are token buckets
 * (requests per second, burst) for the whole stage or one method, across every caller.
 */
export const EDGE_LIMITS = {
  /** Rate-based rules' window: the limits below are requests per this many seconds. */
  windowSeconds: 300,
  /** Any request, per source address, all tenants together (about 10 requests/s sustained). */
  perIp: 3000,
  /**
   * `/init-auth`, `/oidc/token`, `/oidc/device` and the hosted code steps, per source address
   * **and tenant** (Host): Azure AD B2C calls `/init-auth` from a few shared Microsoft addresses for
   * every tenant that uses it, so one tenant's B2C traffic must not use up another's allowance.
   */
  strictPerIp: 1000,
  /** Every request to one tenant (`Host` header), all sources together: one tenant cannot exhaust a region. */
  perTenant: 15000,
  /** What a client is told to wait after a WAF 429, in seconds. */
  retryAfterSeconds: 60,
  /** API Gateway stage default: the whole region, every tenant together. */
  stage: { rateLimit: 200, burstLimit: 400 },
  /** API Gateway method throttling of the strict routes below, each method on its own. */
  strictMethods: { rateLimit: 50, burstLimit: 100 },
} as const;

/**
 * The hosted steps that compare or send a code, and the identifier step that starts them
 * (`POST /interaction/{id}/{step}`, steps in functions/hosted/steps.ts, login.ts and sign-up.ts):
 * the surface for online code guessing and account probing. Passkey ceremonies, cancel and the
 * settings steps are not in it.
 */
export const CODE_STEPS = [
  'identify',
  'totp',
  'email-send',
  'email-verify',
  'enroll-totp',
  'enroll-email-send',
  'enroll-email-verify',
  'signup-email',
  'signup-verify',
  'sms-send',
  'sms-verify',
  'enroll-sms-send',
  'enroll-sms-verify',
] as const;

/**
 * Paths of the strict per-source rule, as the regular expression WAF evaluates (after URL
 * decoding, so `%2D` cannot dodge it). A trailing slash is tolerated because API Gateway is not
 * consistent about it. POST only: the rule's scope-down also requires the method.
 */
export const STRICT_PATHS = `^/(init-auth|oidc/token|oidc/device|interaction/[^/]+/(${CODE_STEPS.join('|')}))/?$`;

/** Names of the web ACL's rules, which are also their CloudWatch metric names (with the prefix). */
export const RULES = {
  ipReputation: 'aws-ip-reputation',
  perIp: 'rate-per-ip',
  strictPerIp: 'rate-per-ip-strict-routes',
  perTenant: 'rate-per-tenant',
  knownBadInputs: 'aws-known-bad-inputs',
  common: 'aws-common',
} as const;

/**
 * Rules of AWSManagedRulesCommonRuleSet that only count (never block) here, each because the
 * product receives such requests by specification (AWS Managed Rules, "Core rule set (CRS)
 * managed rule group"):
 *
 * - `SizeRestrictions_BODY` blocks bodies over 8 KB. Pushed authorization requests (RFC 9126) and
 *   `request` objects (RFC 9101, up to 16384 characters here) posted to `/oidc/request` and
 *   `/oidc/auth`, passkey attestations and management bodies (JSON Logic rules) exceed it. The
 *   functions enforce their own limit (64 KiB, `functions/http/body.ts`, answered 413 in the
 *   endpoint's error style) and API Gateway caps payloads at 10 MB.
 * - `SizeRestrictions_QUERYSTRING` blocks query strings over 2 KB: `request=` at `/oidc/auth` and
 *   `id_token_hint` at `/oidc/session/end` (up to 8 KiB) are legitimately longer.
 * - `GenericRFI_QUERYARGUMENTS` and `GenericRFI_BODY` block parameters holding a URL with an IPv4
 *   address: native apps' loopback redirect URIs (`http://127.0.0.1:<port>/`, RFC 8252 §7.3) are
 *   sent as `redirect_uri` in the authorization request's query and the token request's form.
 * - `NoUserAgent_HEADER` blocks requests without `User-Agent`: server-to-server callers of
 *   `/init-auth`, `/get-user` and `/oidc/token` (Azure AD B2C's RESTful technical profiles, .NET's
 *   HttpClient) need not send one, and nothing in OAuth asks them to.
 *
 * Counted rules still label the request and show in the sampled requests and metrics.
 */
export const COMMON_RULES_COUNTED = [
  'SizeRestrictions_BODY',
  'SizeRestrictions_QUERYSTRING',
  'GenericRFI_QUERYARGUMENTS',
  'GenericRFI_BODY',
  'NoUserAgent_HEADER',
] as const;

/** The body a WAF 429 carries: OAuth's error members (RFC 6749 §5.2) and Azure AD B2C's RESTful error fields. */
export const RATE_LIMITED_BODY = JSON.stringify({
  error: 'too_many_requests',
  error_description: 'too many requests, try again later',
  // Azure AD B2C shows userMessage only with status 409 in the body (as functions/http/lambda.ts does).
  version: '1.0.0',
  status: 409,
  code: 'too_many_requests',
  userMessage: 'The service is busy. Please try again in a moment.',
  developerMessage: 'rate limited at the edge (AWS WAF)',
});

export interface EdgeFirewallProps {
  code: RegionCode;
  /** The REST API stage the web ACL protects. */
  stage: Stage;
}

const visibility = (metricName: string): CfnWebACL.VisibilityConfigProperty => ({
  cloudWatchMetricsEnabled: true,
  sampledRequestsEnabled: true,
  metricName,
});

const managed = (priority: number, name: string, group: string, counted: readonly string[] = []) => ({
  name,
  priority,
  overrideAction: { none: {} },
  statement: {
    managedRuleGroupStatement: {
      vendorName: 'AWS',
      name: group,
      ...(counted.length
        ? { ruleActionOverrides: counted.map((rule) => ({ name: rule, actionToUse: { count: {} } })) }
        : {}),
    },
  },
  visibilityConfig: visibility(name),
});

/** Blocks with 429, `Retry-After` and the JSON body above (AWS WAF custom responses). */
const rateLimitedAction = {
  block: {
    customResponse: {
      responseCode: 429,
      customResponseBodyKey: 'tooManyRequests',
      responseHeaders: [{ name: 'retry-after', value: String(EDGE_LIMITS.retryAfterSeconds) }],
    },
  },
};

const hostKey = {
  header: { name: 'host', textTransformations: [{ priority: 0, type: 'LOWERCASE' }] },
};

/**
 * The region's AWS WAF web ACL (REGIONAL scope), associated with the REST API stage, so it sees the
 * caller's own address (no CDN in between). Rules, first match wins:
 *
 * 0. Amazon IP reputation list: sources AWS threat intelligence reports as bots or attackers.
 * 1. Per source address, every request (`EDGE_LIMITS.perIp`).
 * 2. Per source address and tenant, POSTs to the strict paths (`EDGE_LIMITS.strictPerIp`).
 * 3. Per tenant: the `Host` header (`<tenant>.<code>.<baseDomain>`), every request
 *    (`EDGE_LIMITS.perTenant`): a tenant's request budget.
 * 4. Known bad inputs (Log4j, Java deserialization, ...).
 * 5. The common rule set, with the rules in `COMMON_RULES_COUNTED` counting only.
 *
 * Rate-based rules answer 429 with `Retry-After`; every rule has CloudWatch metrics and sampled
 * requests (the WAF console shows what matched).
 */
export class EdgeFirewall extends Construct {
  readonly webAcl: CfnWebACL;
  readonly association: CfnWebACLAssociation;
  /** The web ACL's name, also the `WebACL` dimension of its CloudWatch metrics (AWS/WAFV2). */
  readonly webAclName: string;
  /** CloudWatch metric name (the `Rule` dimension) of each rule, by role. */
  readonly metricNames: Readonly<Record<keyof typeof RULES, string>>;

  constructor(scope: Construct, id: string, props: EdgeFirewallProps) {
    super(scope, id);
    this.webAclName = `identity-${props.code}`;
    this.metricNames = RULES;
    const window = EDGE_LIMITS.windowSeconds;

    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      name: this.webAclName,
      description: `Identity provider, region ${props.code}: managed rules, per-address and per-tenant rates`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(this.webAclName),
      customResponseBodies: {
        tooManyRequests: { contentType: 'APPLICATION_JSON', content: RATE_LIMITED_BODY },
      },
      rules: [
        managed(0, RULES.ipReputation, 'AWSManagedRulesAmazonIpReputationList'),
        {
          name: RULES.perIp,
          priority: 1,
          action: rateLimitedAction,
          statement: {
            rateBasedStatement: {
              limit: EDGE_LIMITS.perIp,
              evaluationWindowSec: window,
              aggregateKeyType: 'IP',
            },
          },
          visibilityConfig: visibility(RULES.perIp),
        },
        {
          name: RULES.strictPerIp,
          priority: 2,
          action: rateLimitedAction,
          statement: {
            rateBasedStatement: {
              limit: EDGE_LIMITS.strictPerIp,
              evaluationWindowSec: window,
              aggregateKeyType: 'CUSTOM_KEYS',
              customKeys: [{ ip: {} }, hostKey],
              scopeDownStatement: {
                andStatement: {
                  statements: [
                    {
                      byteMatchStatement: {
                        fieldToMatch: { method: {} },
                        positionalConstraint: 'EXACTLY',
                        searchString: 'POST',
                        textTransformations: [{ priority: 0, type: 'NONE' }],
                      },
                    },
                    {
                      regexMatchStatement: {
                        fieldToMatch: { uriPath: {} },
                        regexString: STRICT_PATHS,
                        textTransformations: [{ priority: 0, type: 'URL_DECODE' }],
                      },
                    },
                  ],
                },
              },
            },
          },
          visibilityConfig: visibility(RULES.strictPerIp),
        },
        {
          name: RULES.perTenant,
          priority: 3,
          action: rateLimitedAction,
          statement: {
            rateBasedStatement: {
              limit: EDGE_LIMITS.perTenant,
              evaluationWindowSec: window,
              aggregateKeyType: 'CUSTOM_KEYS',
              customKeys: [hostKey],
            },
          },
          visibilityConfig: visibility(RULES.perTenant),
        },
        managed(4, RULES.knownBadInputs, 'AWSManagedRulesKnownBadInputsRuleSet'),
        managed(5, RULES.common, 'AWSManagedRulesCommonRuleSet', COMMON_RULES_COUNTED),
      ],
    });

    this.association = new CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
    // The stage ARN is built from names, not from the stage resource: wait until the stage exists.
    this.association.node.addDependency(props.stage);
  }
}
