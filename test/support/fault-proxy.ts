import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fault-injecting HTTP proxy in front of DynamoDB Local: it forwards every request unchanged,
 * records the operations (`X-Amz-Target`) of each call, and, when armed, makes the nth call fail
 * the way DynamoDB or the network fails: a 400 ThrottlingException /
 * ProvisionedThroughputExceededException, a 500, a failed condition, a dropped connection, or a
 * delay. A call is recognised across the client's retries by its `amz-sdk-invocation-id`, so one
 * injected fault is one failed call as the caller sees it (every retry of it fails the same way).
 */
export type DynamoFault =
  | 'ProvisionedThroughputExceededException'
  | 'ThrottlingException'
  | 'InternalServerError'
  | 'condition'
  | 'drop'
  | { delayMs: number };

export interface FaultPlan {
  nth: number;
  fault: DynamoFault;
  seen: number;
  /** The operation that failed, once the nth call was made. */
  fired?: string;
  invocation?: string;
}

export interface FaultProxy {
  url: string;
  /** While set, the operations of each call (first attempts), `?` marking a conditional write. */
  trace?: string[];
  /** Makes the nth call from now fail with `fault` (see `FaultPlan.fired`). */
  arm(nth: number, fault: DynamoFault): FaultPlan;
  disarm(): void;
  close(): Promise<void>;
}

/** Whether a write has a condition: only those can fail one. */
function conditional(input: {
  ConditionExpression?: string;
  TransactItems?: Record<string, { ConditionExpression?: string }>[];
}): boolean {
  if (input.ConditionExpression) return true;
  return (input.TransactItems ?? []).some((item) => Object.values(item).some((op) => op.ConditionExpression));
}

const NAMESPACE = 'com.amazonaws.dynamodb.v20120810#';

function errorBody(fault: DynamoFault, operation: string): [number, object] | undefined {
  switch (fault) {
    case 'ProvisionedThroughputExceededException':
    case 'ThrottlingException':
      return [400, { __type: `${NAMESPACE}${fault}`, message: 'injected: rate of requests exceeded' }];
    case 'InternalServerError':
      return [500, { __type: `${NAMESPACE}InternalServerError`, message: 'injected: internal error' }];
    case 'condition':
      return operation === 'TransactWriteItems'
        ? [
            400,
            {
              __type: `${NAMESPACE}TransactionCanceledException`,
              message: 'injected: transaction cancelled',
              CancellationReasons: [{ Code: 'ConditionalCheckFailed', Message: 'injected' }],
            },
          ]
        : [400, { __type: `${NAMESPACE}ConditionalCheckFailedException`, message: 'injected' }];
    default:
      return undefined;
  }
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  let plan: FaultPlan | undefined;

  /** The fault for this request, if it is (a retry of) the armed call. */
  const faultFor = (req: IncomingMessage, operation: string, input: object): DynamoFault | undefined => {
    const invocation = String(req.headers['amz-sdk-invocation-id'] ?? '');
    const first = /attempt=1\b/.test(String(req.headers['amz-sdk-request'] ?? 'attempt=1'));
    if (first) proxy.trace?.push(conditional(input) ? `${operation}?` : operation);
    if (!plan) return undefined;
    if (plan.fired) return invocation && invocation === plan.invocation ? plan.fault : undefined;
    if (!first || ++plan.seen !== plan.nth) return undefined;
    plan.fired = operation;
    plan.invocation = invocation;
    return plan.fault;
  };

  const forward = (req: IncomingMessage, body: Buffer, res: import('node:http').ServerResponse) => {
    const out = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => req.socket.destroy());
    out.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const operation = String(req.headers['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, '');
      let input: object = {};
      try {
        input = JSON.parse(body.toString() || '{}') as object;
      } catch {
        // forwarded as it is
      }
      const fault = faultFor(req, operation, input);
      if (fault === 'drop') return req.socket.destroy();
      if (fault && typeof fault === 'object') {
        setTimeout(() => forward(req, body, res), fault.delayMs);
        return;
      }
      const error = fault && errorBody(fault, operation);
      if (error) {
        res.writeHead(error[0], { 'content-type': 'application/x-amz-json-1.0' });
        return res.end(JSON.stringify(error[1]));
      }
      forward(req, body, res);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));

  const proxy: FaultProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arm(nth, fault) {
      plan = { nth, fault, seen: 0 };
      return plan;
    },
    disarm() {
      plan = undefined;
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
  return proxy;
}
