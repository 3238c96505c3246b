/**
 * Process-wide call counters: how many DynamoDB commands (by name: GetItem, PutItem, ...) and how
 * many JWT signatures this process has made. `services.ts` feeds them from an observer on the
 * DynamoDB JSON client (`aws/json-api.ts`) and a wrapper around the signer; `npm run bench` reads them to report what one login costs,
 * so that the number of calls per login stays small and known. A Map increment per call: cheap enough to stay on everywhere.
 *
 * The same module is the metrics port of the product: domain code and handlers call `metric()`
 * with a name and a few low-cardinality dimensions, never a metrics library. Locally (and in
 * tests) a metric is one more counter; in a Lambda function the wrapper (`http/lambda.ts`) plugs
 * in the Powertools EMF sink (`metrics-emf.ts`) and flushes it once per invocation. This module
 * imports nothing, so `lib/monitoring.ts` reads the names from here.
 */
const counters = new Map<string, number>();

/** One more call of `name`, e.g. `dynamodb:GetItem` or `signer:signJwt`. */
export function count(name: string): void {
  counters.set(name, (counters.get(name) ?? 0) + 1);
}

export type CallCounts = Record<string, number>;

/** A copy of every counter so far. */
export function snapshot(): CallCounts {
  return Object.fromEntries(counters);
}

/** What happened between two snapshots (counters that did not move are left out). */
export function since(before: CallCounts, after: CallCounts = snapshot()): CallCounts {
  const out: CallCounts = {};
  for (const [name, value] of Object.entries(after)) {
    const delta = value - (before[name] ?? 0);
    if (delta !== 0) out[name] = delta;
  }
  return out;
}

export function resetCounters(): void {
  counters.clear();
}

/**
 * The product's business and health metrics (CloudWatch namespace `Identity` on AWS). Each has a
 * fixed set of dimensions, so the alarms and the dashboard in `lib/monitoring.ts` can name them.
 */
export const METRICS = {
  /** `/init-auth` started a federated flow. */
  FlowsStarted: [],
  /** A federated flow ended with a code; dimension `ActionState` (ALLOW, BLOCK, CHALLENGE_*). */
  FlowsCompleted: ['ActionState'],
  /** A challenge passed or failed; dimension `Method` (passkey, totp, email). */
  ChallengesSucceeded: ['Method'],
  ChallengesFailed: ['Method'],
  /** A user created their own account on the hosted login (self sign-up). */
  SignUps: [],
  /** A user was locked out of code guesses for a while. */
  Lockouts: [],
  /** The token endpoint issued tokens; dimension `GrantType`. */
  TokensIssued: ['GrantType'],
  /** Error answers; dimension `Route` (`POST /oidc/token`, ...). */
  ClientErrors: ['Route'],
  ServerErrors: ['Route'],
  /** An SMS was allowed by the SMS guard and handed to the texter. */
  SmsSent: [],
  /** The SMS guard refused a send; dimension `Reason` (country_not_allowed, cap_number, ...). */
  SmsRefused: ['Reason'],
  /** A KMS call failed (KMS publishes no per-call error metric of its own); the log names the operation. */
  KmsErrors: [],
} as const satisfies Record<string, readonly string[]>;

/** The CloudWatch namespace of these metrics; every one also has the dimension `service=identity`. */
export const METRICS_NAMESPACE = 'Identity';
export const METRICS_SERVICE = 'identity';

export type MetricName = keyof typeof METRICS;
type Dimensions<N extends MetricName> = { [K in (typeof METRICS)[N][number]]: string };

/** Where metrics go besides the counters: the EMF sink in a Lambda function, nothing locally. */
export interface MetricSink {
  add(name: MetricName, dimensions: Record<string, string>, value: number): void;
  /** Writes what was added since the last flush. */
  flush(): void;
}

let sink: MetricSink | undefined;

/** Plugs a sink in (the Lambda wrapper does, once per container); `undefined` unplugs it. */
export function useMetricSink(next: MetricSink | undefined): void {
  sink = next;
}

/** One more of `name` (counted locally as `metric:<name>[:<dimension values>]`). */
export function metric<N extends MetricName>(name: N, dimensions: Dimensions<N>, value = 1): void {
  const dims = dimensions as Record<string, string>;
  const key = `metric:${[name, ...Object.values(dims)].join(':')}`;
  counters.set(key, (counters.get(key) ?? 0) + value);
  sink?.add(name, dims, value);
}

/** Writes the metrics of this invocation (the Lambda wrapper calls it once per invocation). */
export function flushMetrics(): void {
  sink?.flush();
}
