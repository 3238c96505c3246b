import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { signRequest } from './sigv4.js';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { exchange } from '../outbound/exchange.js';
import { xrayObserver } from './xray.js';
import { BackendUnavailableError } from '../errors.js';

/**
 * The AWS JSON protocols, spoken over node:http(s) (`outbound/exchange.ts`) for the services the functions use (DynamoDB, KMS,
 * SQS and End User Messaging SMS: JSON-RPC with `X-Amz-Target`; SES v2: REST-JSON). Why not the AWS SDK: its KMS client
 * alone bundles to about 318 KB minified and DynamoDB with lib-dynamodb to 342 KB, most of a
 * Lambda's cold start (docs/architecture.md, "No AWS SDK in the functions"). What this module
 * does by hand is small and follows the SDK's documented behaviour: the endpoint (including
 * `AWS_ENDPOINT_URL_<SERVICE>`), the error shape, retries with jittered back-off, and a timeout per
 * attempt, and SigV4 signing (`sigv4.ts`); DynamoDB's attribute values are `@aws-sdk/util-dynamodb`.
 */

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export type CredentialProvider = () => AwsCredentials | Promise<AwsCredentials>;

/**
 * A Lambda function's credentials: its execution role's, which the runtime puts in the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). Read on every call, so
 * credentials refreshed in the environment are picked up.
 */
export const envCredentials: CredentialProvider = () => {
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN } = process.env;
  if (!AWS_ACCESS_KEY_ID || !AWS_SECRET_ACCESS_KEY) {
    throw new Error('no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set');
  }
  return {
    accessKeyId: AWS_ACCESS_KEY_ID,
    secretAccessKey: AWS_SECRET_ACCESS_KEY,
    ...(AWS_SESSION_TOKEN ? { sessionToken: AWS_SESSION_TOKEN } : {}),
  };
};

export const staticCredentials =
  (credentials: AwsCredentials): CredentialProvider =>
  () =>
    credentials;

export type AwsService = 'dynamodb' | 'kms' | 'sesv2' | 'sqs' | 'sms-voice';

interface ServiceSpec {
  /** Host prefix of the regional endpoint. */
  host: string;
  /** SigV4 signing name. */
  signingName: string;
  /** The SDK's service id, upper-cased, as in `AWS_ENDPOINT_URL_<ID>`. */
  envId: string;
  contentType: string;
  /** JSON-RPC target prefix (`X-Amz-Target: <prefix>.<Operation>`); none for REST-JSON. */
  target?: string;
}

const SERVICES: Record<AwsService, ServiceSpec> = {
  dynamodb: {
    host: 'dynamodb',
    signingName: 'dynamodb',
    envId: 'DYNAMODB',
    contentType: 'application/x-amz-json-1.0',
    target: 'DynamoDB_20120810',
  },
  kms: {
    host: 'kms',
    signingName: 'kms',
    envId: 'KMS',
    contentType: 'application/x-amz-json-1.1',
    target: 'TrentService',
  },
  sesv2: { host: 'email', signingName: 'ses', envId: 'SESV2', contentType: 'application/json' },
  // SQS speaks the AWS JSON 1.0 protocol (Amazon SQS Developer Guide, "Making query API requests
  // using AWS JSON protocol").
  sqs: {
    host: 'sqs',
    signingName: 'sqs',
    envId: 'SQS',
    contentType: 'application/x-amz-json-1.0',
    target: 'AmazonSQS',
  },
  // AWS End User Messaging SMS (the PinpointSMSVoiceV2 API): JSON 1.0, signed as `sms-voice`.
  'sms-voice': {
    host: 'sms-voice',
    signingName: 'sms-voice',
    envId: 'PINPOINT_SMS_VOICE_V2',
    contentType: 'application/x-amz-json-1.0',
    target: 'PinpointSMSVoiceV2',
  },
};

/**
 * The endpoint of a service in a region, as the SDK resolves it: `AWS_ENDPOINT_URL_<SERVICE>`,
 * then `AWS_ENDPOINT_URL`, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`; else the regional
 * endpoint (AWS SDKs and Tools Reference Guide, "Service-specific endpoints").
 */
export function endpointFor(
  service: AwsService,
  region: string,
  env: Record<string, string | undefined> = process.env,
): string {
  const spec = SERVICES[service];
  const configured =
    env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true'
      ? undefined
      : env[`AWS_ENDPOINT_URL_${spec.envId}`] || env.AWS_ENDPOINT_URL;
  return (configured || `https://${spec.host}.${region}.amazonaws.com`).replace(/\/+$/, '');
}

/** An error answered by an AWS service: `name` is its error code, `fields` the rest of the body. */
export class AwsApiError extends Error {
  constructor(
    code: string,
    message: string,
    readonly status: number,
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = code;
  }
}

/** The SDK's throttling error codes (`@smithy/service-error-classification`). */
const THROTTLING = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
/** Transient server-side codes, retried like a 5xx whatever their status. */
const TRANSIENT = new Set(['RequestTimeout', 'RequestTimeoutException', 'DependencyTimeoutException']);

export function isRetryable(err: AwsApiError): boolean {
  return err.status >= 500 || err.status === 429 || THROTTLING.has(err.name) || TRANSIENT.has(err.name);
}

/**
 * Parses an error response of the JSON protocols: the code is in the `x-amzn-errortype` header or
 * the body's `__type` / `code` (either may carry a namespace before `#` or a URL after `:`), the
 * message in `message` or `Message`; every other field is kept (DynamoDB's `CancellationReasons`,
 * `Item`).
 */
export function parseError(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  text: string,
): AwsApiError {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = text ? JSON.parse(text) : {};
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // not JSON (a proxy's error page): the status decides
  }
  const { __type, code: bodyCode, message, Message, ...fields } = body;
  const errorType = headers['x-amzn-errortype'];
  const raw = (Array.isArray(errorType) ? errorType[0] : errorType) ?? __type ?? bodyCode;
  const code =
    typeof raw === 'string' && raw
      ? raw.split(':')[0]!.split('#').pop()!
      : status >= 500
        ? 'InternalFailure'
        : `Http${status}`;
  const text2 = message ?? Message;
  return new AwsApiError(code, typeof text2 === 'string' ? text2 : `HTTP ${status}`, status, fields);
}

export interface AwsCall {
  operation: string;
  input: unknown;
  output?: unknown;
  error?: unknown;
  /** Epoch milliseconds when the call began and ended (retries included). */
  started: number;
  ended?: number;
}

export interface AwsApiOptions {
  service: AwsService;
  /** The AWS region (signing and the default endpoint). */
  region: string;
  /** Overrides the endpoint (else `endpointFor`). */
  endpoint?: string;
  credentials?: CredentialProvider;
  /** Attempts per call, the first included (the SDK's default: 3). */
  maxAttempts?: number;
  /** Each attempt's limit, connection and whole answer included. */
  timeoutMs?: number;
  /** Base of the exponential back-off between attempts (full jitter). */
  backoffMs?: number;
}

/** What a transport failure was, for the log: `ECONNREFUSED`, `TimeoutError`... */
function describe(err: unknown): string {
  const code = (err as { code?: unknown; cause?: { code?: unknown } }).code;
  if (typeof code === 'string') return code;
  const cause = (err as { cause?: { code?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  return (err as { name?: string }).name ?? String(err);
}

/**
 * Keep-alive connections: a warm container reuses its connection to each endpoint (TLS set up
 * once). A socket the endpoint closed while the container was frozen fails its next request, which
 * is retried like any network failure.
 */
const keepAlive = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

/**
 * One service in one region. `call` is a JSON-RPC operation, `rest` a REST-JSON one. A throttling
 * or 5xx answer, a network failure or a timeout is retried (up to `maxAttempts`), then becomes
 * `BackendUnavailableError` (answered 503); any other error answer is thrown as `AwsApiError`.
 */
export class AwsApi {
  readonly endpoint: string;
  private readonly spec: ServiceSpec;
  private readonly credentials: CredentialProvider;
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;
  private readonly backoffMs: number;
  private readonly observers: ((call: AwsCall) => void)[];

  constructor(readonly options: AwsApiOptions) {
    this.spec = SERVICES[options.service];
    // Every call is an X-Ray subsegment when the invocation is traced (functions/aws/xray.ts).
    this.observers = [xrayObserver(options.service, options.region)];
    this.endpoint = options.endpoint?.replace(/\/+$/, '') ?? endpointFor(options.service, options.region);
    this.credentials = options.credentials ?? envCredentials;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.timeoutMs = options.timeoutMs ?? 3_000;
    this.backoffMs = options.backoffMs ?? 50;
  }

  /** Sees every call once it is over (not each attempt): counters, the bench's capacity meter. */
  observe(observer: (call: AwsCall) => void): void {
    this.observers.push(observer);
  }

  /** Nothing to release: connections are the module's shared keep-alive pool (kept for callers of the SDK's `destroy`). */
  destroy(): void {}

  /** A JSON-RPC operation (`X-Amz-Target`), e.g. DynamoDB `GetItem` or KMS `Sign`. */
  call<T>(operation: string, input: object): Promise<T> {
    if (!this.spec.target) throw new Error(`${this.options.service} is not a JSON-RPC service`);
    return this.send<T>(operation, 'POST', '/', input, {
      'x-amz-target': `${this.spec.target}.${operation}`,
    });
  }

  /** A REST-JSON operation, e.g. SES v2 `SendEmail` (`POST /v2/email/outbound-emails`). */
  rest<T>(operation: string, method: string, path: string, input: object): Promise<T> {
    return this.send<T>(operation, method, path, input, {});
  }

  private async send<T>(
    operation: string,
    method: string,
    path: string,
    input: object,
    headers: Record<string, string>,
  ): Promise<T> {
    const call: AwsCall = { operation, input, started: Date.now() };
    try {
      call.output = await this.attempts(operation, method, path, JSON.stringify(input), headers);
      return call.output as T;
    } catch (err) {
      call.error = err;
      throw err;
    } finally {
      call.ended = Date.now();
      for (const observe of this.observers) observe(call);
    }
  }

  private async attempts(
    operation: string,
    method: string,
    path: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<unknown> {
    const credentials = await this.credentials();
    const url = new URL(`${this.endpoint}${path}`);
    // The SDK's retry headers: one invocation id for all attempts of a call, and the attempt number.
    const invocation = randomUUID();
    let last: unknown;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (attempt > 1) await sleep(Math.random() * this.backoffMs * 2 ** (attempt - 1));
      const signed = signRequest({
        method,
        url,
        body,
        headers: {
          ...headers,
          'content-type': this.spec.contentType,
          'amz-sdk-invocation-id': invocation,
          'amz-sdk-request': `attempt=${attempt}; max=${this.maxAttempts}`,
        },
        service: this.spec.signingName,
        region: this.options.region,
        credentials,
      });
      try {
        return await this.once(url, { method, body, headers: signed });
      } catch (err) {
        if (err instanceof AwsApiError && !isRetryable(err)) throw err;
        last = err;
      }
    }
    const what = last instanceof AwsApiError ? last.name : describe(last);
    throw new BackendUnavailableError(`${this.options.service} ${operation} unavailable: ${what}`, {
      cause: last,
    });
  }

  private async once(url: URL, init: { method: string; body: string; headers: Record<string, string> }) {
    // `host` is among the signed headers and goes as signed.
    const res = await exchange(url, {
      ...init,
      timeoutMs: this.timeoutMs,
      agent: url.protocol === 'https:' ? keepAlive.https : keepAlive.http,
    });
    if (res.status < 200 || res.status > 299) throw parseError(res.status, res.headers, res.body);
    return res.body ? JSON.parse(res.body) : {};
  }
}
