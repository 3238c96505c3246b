import { Duration, Stack, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Operation, type ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct, type Node } from 'constructs';
import { METRICS, METRICS_NAMESPACE, METRICS_SERVICE, type MetricName } from '../functions/metrics.js';
import type { RegionCode } from '../functions/regions.js';

/**
 * What the alarms need to know about the region's API, whatever kind it is: its name, its stage
 * and one entry per route (methods, path as API Gateway names the resource, the function). The
 * API Gateway metrics are read with the REST API dimensions `ApiName`, `Stage`, `Resource`, `Method`
 * (per-method metrics need the stage's detailed metrics on).
 */
export interface MonitoredApi {
  apiName: string;
  stageName: string;
  routes: readonly { id: string; methods: readonly string[]; path: string; fn: IFunction }[];
}

export interface MonitoringProps {
  code: RegionCode;
  api: MonitoredApi;
  /** Functions that are not API routes (the scheduled key rotation). */
  otherFunctions: readonly IFunction[];
  table: ITable;
  deadLetters: IQueue;
  /** Present when the region sends mail: SES reputation alarms. */
  mail: boolean;
  /** Context `alarmEmail`: subscribed to the alarm topic (the address must confirm). */
  alarmEmail?: string | undefined;
}

/** Context `alarmEmail`: an address that gets the alarm topic's notifications (optional). */
export function alarmEmailOf(node: Node): string | undefined {
  const value: unknown = node.tryGetContext('alarmEmail');
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^[^@\s]+@[^@\s]+\.[a-z]{2,63}$/i.test(value.trim()))
    throw new Error(`Context alarmEmail must be an email address, not "${String(value)}"`);
  return value.trim();
}

/** The routes whose p99 latency is alarmed: the steps of the federated flow a user waits on. */
export const LATENCY_ROUTES = ['InitAuth', 'Authorize', 'Token'] as const;

/** Thresholds, in one place so the docs and the tests can name them. */
export const THRESHOLDS = {
  /** Share of API requests answered 5xx over 5 minutes. */
  api5xxRate: 0.01,
  /** p99 latency in ms, three 5-minute periods in a row. */
  latencyP99Ms: 1000,
  /** SES reviews an account at a 5 % bounce rate and 0.1 % complaint rate; alarm before that. */
  sesBounceRate: 0.04,
  sesComplaintRate: 0.0008,
} as const;

/** CloudWatch alarm math takes at most 10 metrics per alarm. */
const MAX_ALARM_METRICS = 10;
const FIVE_MINUTES = Duration.minutes(5);
/** The operations the functions call (functions/store/dynamo-store.ts). */
const TABLE_OPERATIONS = [
  Operation.GET_ITEM,
  Operation.PUT_ITEM,
  Operation.UPDATE_ITEM,
  Operation.DELETE_ITEM,
  Operation.QUERY,
  Operation.TRANSACT_WRITE_ITEMS,
  Operation.BATCH_WRITE_ITEM,
];

/**
 * The region's dead-letter queue for asynchronous invocations that failed after their retries
 * (the scheduled key rotation): encrypted (SSE-SQS), kept the SQS maximum of 14 days, alarmed.
 */
export class DeadLetterQueue extends Construct {
  readonly queue: Queue;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue; a dead-letter queue of its own would never be read.',
    });
  }
}

/**
 * Alarms to one SNS topic and one dashboard for the region: API 5xx rate and p99 latency of the
 * federated flow's routes (AWS/ApiGateway), Lambda errors and throttles (AWS/Lambda, summed with
 * metric math), DynamoDB throttles and system errors (AWS/DynamoDB), KMS errors (the functions'
 * own `Identity` EMF metric: AWS/KMS has no per-request error metric), SES bounce and complaint
 * rates (AWS/SES `Reputation.*`, account-wide in the region) and the dead-letter queue's depth.
 */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const prefix = `identity-${props.code}`;
    this.topic = new Topic(this, 'Alarms', {
      displayName: `Identity ${props.code} alarms`,
      enforceSSL: true,
    });
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry alarm names and thresholds only. CloudWatch cannot publish to a topic under ' +
        'the AWS managed SNS key, and a customer managed key would cost $1 a month per region to protect nothing secret.',
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    const api = apiMetrics(props.api);
    const functions = [...props.api.routes.map((r) => r.fn), ...props.otherFunctions];
    const lambdaErrors = chunks(functions).map((fns, i) =>
      sum(
        fns.map((f) => f.metricErrors()),
        `Errors${i}`,
      ),
    );
    const lambdaThrottles = chunks(functions).map((fns, i) =>
      sum(
        fns.map((f) => f.metricThrottles()),
        `Throttles${i}`,
      ),
    );
    const dynamoThrottles = props.table.metricThrottledRequestsForOperations({
      operations: TABLE_OPERATIONS,
      period: FIVE_MINUTES,
    });
    const dynamoErrors = props.table.metricSystemErrorsForOperations({
      operations: TABLE_OPERATIONS,
      period: FIVE_MINUTES,
    });
    const kmsErrors = own('KmsErrors');
    const dlqDepth = props.deadLetters.metricApproximateNumberOfMessagesVisible({
      period: FIVE_MINUTES,
      statistic: 'Maximum',
    });

    this.alarm(
      'Api5xxRate',
      api.serverErrorRate,
      THRESHOLDS.api5xxRate,
      'API 5xx answers over 1 % of requests',
    );
    for (const l of api.latency) {
      this.alarm(
        `LatencyP99${l.id}${l.method}`,
        l.metric,
        THRESHOLDS.latencyP99Ms,
        `p99 latency of ${l.label}`,
        3,
      );
    }
    lambdaErrors.forEach((m, i) => this.alarm(`LambdaErrors${i}`, m, 0, 'Lambda function errors'));
    lambdaThrottles.forEach((m, i) => this.alarm(`LambdaThrottles${i}`, m, 0, 'Lambda throttles'));
    this.alarm('DynamoThrottles', dynamoThrottles, 0, 'DynamoDB throttled requests');
    this.alarm('DynamoSystemErrors', dynamoErrors, 0, 'DynamoDB system errors');
    this.alarm('KmsErrors', kmsErrors, 0, 'KMS calls that failed');
    this.alarm('DeadLetters', dlqDepth, 0, 'Failed asynchronous invocations in the dead-letter queue');
    const ses = props.mail ? sesMetrics() : undefined;
    if (ses) {
      this.alarm('SesBounceRate', ses.bounce, THRESHOLDS.sesBounceRate, 'SES bounce rate');
      this.alarm('SesComplaintRate', ses.complaint, THRESHOLDS.sesComplaintRate, 'SES complaint rate');
    }

    this.dashboard = new Dashboard(this, 'Dashboard', {
      // Dashboard names are unique in the account (dashboards are global): one per region code.
      dashboardName: prefix,
      defaultInterval: Duration.hours(3),
    });
    const graph = (title: string, left: IMetric[], width = 8) =>
      new GraphWidget({ title, left, width, height: 6 });
    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
    this.dashboard.addWidgets(
      graph('API requests and 5xx rate', [api.requests, api.serverErrorRate]),
      graph(
        'p99 latency (ms)',
        api.latency.map((l) => l.metric),
      ),
      graph('Lambda errors and throttles', [...lambdaErrors, ...lambdaThrottles]),
    );
    this.dashboard.addWidgets(
      graph('Flows by action_state; self sign-ups', [
        own('FlowsStarted'),
        search('FlowsCompleted'),
        own('SignUps'),
      ]),
      graph('Challenges by method, lockouts', [
        search('ChallengesSucceeded'),
        search('ChallengesFailed'),
        own('Lockouts'),
      ]),
      graph('Tokens by grant type', [search('TokensIssued')]),
    );
    this.dashboard.addWidgets(
      graph('SMS sent, and refused by reason', [own('SmsSent'), search('SmsRefused')], 24),
    );
    this.dashboard.addWidgets(
      graph('4xx and 5xx by route', [search('ClientErrors'), search('ServerErrors')]),
      graph('DynamoDB throttled requests', [dynamoThrottles], 4),
      graph('DynamoDB system errors', [dynamoErrors], 4),
      graph('KMS errors', [kmsErrors], 4),
      graph(
        'Dead letters; SES bounce and complaint rates',
        [dlqDepth, ...(ses ? [ses.bounce, ses.complaint] : [])],
        4,
      ),
    );
  }

  private alarm(id: string, metric: IMetric, threshold: number, what: string, periods = 1): void {
    const alarm = new Alarm(this, id, {
      alarmName: `${Stack.of(this).stackName}-${id}`,
      alarmDescription: `${what} (${Stack.of(this).stackName}); runbook: docs/deploy.md, "Alarms".`,
      metric,
      threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      // No requests, no errors: missing data is a quiet region, not a broken one.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}

/** API Gateway (REST API dimensions): requests, the 5xx rate, p99 latency of the flow's routes. */
function apiMetrics(api: MonitoredApi) {
  const dims = { ApiName: api.apiName, Stage: api.stageName };
  const gw = (metricName: string, statistic: string, extra: Record<string, string> = {}) =>
    new Metric({
      namespace: 'AWS/ApiGateway',
      metricName,
      statistic,
      period: FIVE_MINUTES,
      dimensionsMap: { ...dims, ...extra },
    });
  const latency = api.routes
    .filter((r) => (LATENCY_ROUTES as readonly string[]).includes(r.id))
    .flatMap((r) =>
      r.methods.map((method) => ({
        id: r.id,
        method,
        label: `${method} ${r.path}`,
        metric: gw('Latency', 'p99', { Resource: r.path, Method: method }),
      })),
    );
  return {
    requests: gw('Count', 'Sum'),
    // 5XXError is 0 or 1 per request: its average is the share of 5xx answers.
    serverErrorRate: gw('5XXError', 'Average'),
    latency,
  };
}

/** One of the functions' own EMF metrics that has no dimension but `service`. */
function own(name: MetricName): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    statistic: 'Sum',
    period: FIVE_MINUTES,
    dimensionsMap: { service: METRICS_SERVICE },
  });
}

/** Every series of one of the functions' EMF metrics, one line per dimension value (dashboards only). */
function search(name: MetricName): MathExpression {
  const dims = ['service', ...METRICS[name]].join(',');
  return new MathExpression({
    expression: `SEARCH('{${METRICS_NAMESPACE},${dims}} MetricName="${name}"', 'Sum', 300)`,
    usingMetrics: {},
    label: name,
    period: FIVE_MINUTES,
  });
}

function sesMetrics() {
  const ses = (metricName: string) =>
    new Metric({ namespace: 'AWS/SES', metricName, statistic: 'Maximum', period: Duration.hours(1) });
  return { bounce: ses('Reputation.BounceRate'), complaint: ses('Reputation.ComplaintRate') };
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += MAX_ALARM_METRICS) out.push(items.slice(i, i + MAX_ALARM_METRICS));
  return out;
}

/** The sum of up to ten metrics, as one alarmable expression. */
function sum(metrics: IMetric[], label: string): MathExpression {
  // Ids unique across the expressions that share a graph (`errors0_m3`).
  const usingMetrics = Object.fromEntries(metrics.map((m, i) => [`${label.toLowerCase()}_m${i}`, m]));
  return new MathExpression({
    // SUM([...]) adds the series present at each time: a function that was not invoked is no gap.
    expression: `SUM([${Object.keys(usingMetrics).join(', ')}])`,
    usingMetrics,
    label,
    period: FIVE_MINUTES,
  });
}
