import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';

/*
 * X-Ray subsegments for the functions' AWS calls (DynamoDB, KMS, SES), sent to the X-Ray daemon the
 * way the X-Ray SDK does: one UDP datagram per subsegment, `{"format":"json","version":1}` then the
 * document (X-Ray developer guide, "Sending segment documents to the X-Ray daemon"). Written by hand
 * because the SDK (through Powertools Tracer) is 127 KB per bundle; Lambda's active tracing makes the
 * function's own segment, and these hang under it with the invocation's trace header.
 */

const HEADER = '{"format":"json","version":1}\n';

/** X-Ray's names for the services, as its service map shows them. */
const NAMES: Record<string, string> = {
  dynamodb: 'DynamoDB',
  kms: 'KMS',
  sesv2: 'SESv2',
  'sms-voice': 'PinpointSMSVoiceV2',
};

/** What the JSON client (json-api.ts) tells its observers of a finished call. */
interface TracedCall {
  operation: string;
  input: unknown;
  error?: unknown;
  started: number;
  ended?: number;
}

interface TraceContext {
  traceId: string;
  parentId: string;
}

/** The invocation's trace header (`Root=…;Parent=…;Sampled=1`, set by Lambda), when it is sampled. */
export function traceContext(header: string | undefined): TraceContext | undefined {
  if (!header) return undefined;
  const fields = Object.fromEntries(header.split(';').map((kv) => kv.split('=', 2) as [string, string]));
  if (fields.Sampled !== '1' || !fields.Root || !fields.Parent) return undefined;
  return { traceId: fields.Root, parentId: fields.Parent };
}

/** `host:port` of the daemon's UDP listener from `AWS_XRAY_DAEMON_ADDRESS` (`h:p`, or `tcp:h:p udp:h:p`). */
export function daemonAddress(value: string | undefined): { host: string; port: number } | undefined {
  if (!value) return undefined;
  const udp = value.split(/\s+/).find((part) => part.startsWith('udp:')) ?? value.split(/\s+/)[0]!;
  const m = /^(?:udp:)?([^:\s]+):(\d+)$/.exec(udp);
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined;
}

/** The subsegment document of one call (X-Ray segment document: `aws` and error fields). */
export function subsegment(
  service: string,
  region: string,
  call: TracedCall,
  trace: TraceContext,
): Record<string, unknown> {
  const name = (call.error as { name?: string } | undefined)?.name ?? '';
  const status = (call.error as { status?: number } | undefined)?.status;
  const throttled = /Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded/.test(name);
  const fault =
    call.error !== undefined && (status === undefined || status >= 500 || name === 'BackendUnavailableError');
  const table = (call.input as { TableName?: unknown } | undefined)?.TableName;
  return {
    type: 'subsegment',
    id: randomBytes(8).toString('hex'),
    trace_id: trace.traceId,
    parent_id: trace.parentId,
    name: NAMES[service] ?? service,
    namespace: 'aws',
    start_time: call.started / 1000,
    end_time: call.ended! / 1000,
    aws: { operation: call.operation, region, ...(typeof table === 'string' ? { table_name: table } : {}) },
    ...(call.error === undefined
      ? {}
      : fault
        ? { fault: true }
        : { error: true, ...(throttled ? { throttle: true } : {}) }),
    // The error's AWS code only: messages can quote request values.
    ...(name ? { cause: { exceptions: [{ id: randomBytes(8).toString('hex'), type: name }] } } : {}),
  };
}

let socket: Socket | undefined;

/**
 * An observer for `AwsApi` that sends a subsegment per finished call when the invocation is sampled
 * and a daemon is configured (on Lambda with active tracing); elsewhere it does nothing. Sending is
 * fire-and-forget: tracing never fails or slows a request.
 */
export function xrayObserver(service: string, region: string, env = process.env): (call: TracedCall) => void {
  return (call) => {
    const trace = traceContext(env._X_AMZN_TRACE_ID);
    const daemon = daemonAddress(env.AWS_XRAY_DAEMON_ADDRESS);
    if (!trace || !daemon || call.ended === undefined) return;
    socket ??= createSocket('udp4').unref();
    const datagram = HEADER + JSON.stringify(subsegment(service, region, call, trace));
    socket.send(datagram, daemon.port, daemon.host, () => undefined);
  };
}
