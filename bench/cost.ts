/**
 * The bench's cost model: what one federated flow and one client_credentials token cost on AWS,
 * from the calls the bench counted (functions/metrics.ts) and the prices in bench/prices.ts.
 *
 * DynamoDB request units are counted here, by an observer on the region's own DynamoDB client,
 * from the shape and size of each call (on-demand rules): a strongly consistent read is 1 RRU per
 * 4 KB of item (a missing item or an empty Query still 1), a write 1 WRU per 1 KB, both twice in a
 * transaction. Item sizes are estimated from the attribute names and values, as DynamoDB sizes
 * them. DynamoDB Local's own ConsumedCapacity is not used: it reports 0 for empty reads and 1× for
 * transactions, which DynamoDB bills.
 */
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AwsApi } from '../functions/aws/json-api.js';
import { count, type CallCounts } from '../functions/metrics.js';
import { ASSUMED_LATENCY_MS, PRICES, STACK } from './prices.js';

export const RRU = 'capacity:RRU';
export const WRU = 'capacity:WRU';

/** DynamoDB's size of a value (close enough: numbers are sized by their digits). */
function size(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'bigint') return Math.ceil(String(value).length / 2) + 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...value].reduce((n: number, v) => n + size(v), 0);
  if (Array.isArray(value)) return 3 + value.reduce((n: number, v) => n + 1 + size(v), 0);
  if (typeof value === 'object')
    return 3 + Object.entries(value).reduce((n, [k, v]) => n + 1 + Buffer.byteLength(k) + size(v), 0);
  return 1;
}

/** An item's size: its attribute names and values. */
export const itemSize = (item: Record<string, unknown> | undefined): number =>
  item ? Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + size(v), 0) : 0;

const readUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));
const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

type Input = Record<string, unknown> & {
  Item?: Record<string, unknown>;
  RequestItems?: Record<string, { Keys?: unknown[] }>;
  TransactItems?: Record<string, { Item?: Record<string, unknown> }>[];
};
type Output = Record<string, unknown> & {
  Item?: Record<string, unknown>;
  Items?: Record<string, unknown>[];
  Attributes?: Record<string, unknown>;
  Responses?: Record<string, Record<string, unknown>[]> | { Item?: Record<string, unknown> }[];
};

/** Request units of one call, by operation (lib-dynamodb command names). */
export function requestUnits(command: string, input: Input, output: Output): { rru: number; wru: number } {
  switch (command.replace(/Command$/, '')) {
    case 'Get':
    case 'GetItem':
      return { rru: readUnits(itemSize(output.Item)), wru: 0 };
    case 'BatchGet':
    case 'BatchGetItem': {
      const asked = Object.values(input.RequestItems ?? {}).reduce((n, r) => n + (r.Keys?.length ?? 0), 0);
      const got = Object.values((output.Responses ?? {}) as Record<string, Record<string, unknown>[]>).flat();
      return { rru: got.reduce((n, it) => n + readUnits(itemSize(it)), 0) + (asked - got.length), wru: 0 };
    }
    case 'Query':
    case 'Scan':
      return { rru: readUnits((output.Items ?? []).reduce((n, it) => n + itemSize(it), 0)), wru: 0 };
    case 'Put':
    case 'PutItem':
      return { rru: 0, wru: writeUnits(itemSize(input.Item)) };
    case 'Update':
    case 'UpdateItem':
      return { rru: 0, wru: writeUnits(itemSize(output.Attributes)) };
    case 'Delete':
    case 'DeleteItem':
      return { rru: 0, wru: 1 };
    case 'TransactWrite':
    case 'TransactWriteItems':
      // Transactional writes cost twice; an Update's item size is not in the request (≤ 1 KB here).
      return {
        rru: 0,
        wru: (input.TransactItems ?? []).reduce(
          (n, op) => n + 2 * writeUnits(itemSize(Object.values(op)[0]?.Item)),
          0,
        ),
      };
    case 'TransactGet':
    case 'TransactGetItems':
      return {
        rru: ((output.Responses ?? []) as { Item?: Record<string, unknown> }[]).reduce(
          (n, r) => n + 2 * readUnits(itemSize(r.Item)),
          0,
        ),
        wru: 0,
      };
    default:
      return { rru: 0, wru: 0 };
  }
}

/** Attribute-value maps on the wire (`{ S: ... }`) as plain items, so they are sized like items. */
function plainItems(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainItems);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'Responses' && !Array.isArray(v)) {
      // BatchGetItem: items by table.
      out[k] = Object.fromEntries(
        Object.entries(v as Record<string, Parameters<typeof unmarshall>[0][]>).map(([t, items]) => [
          t,
          items.map((it) => unmarshall(it)),
        ]),
      );
      continue;
    }
    out[k] = ['Item', 'Attributes'].includes(k)
      ? unmarshall(v as Parameters<typeof unmarshall>[0])
      : k === 'Items'
        ? (v as Parameters<typeof unmarshall>[0][]).map((it) => unmarshall(it))
        : plainItems(v);
  }
  return out;
}

/**
 * Counts request units of every call made through this client (the region's DynamoDB client), into
 * the bench counters `capacity:RRU` and `capacity:WRU`. A failed conditional write is billed too (1
 * WRU per item); a call that failed otherwise is not counted.
 */
export function meterCapacity(client: Pick<AwsApi, 'observe'>): void {
  client.observe((call) => {
    const input = plainItems(call.input) as Input;
    const add = (units: { rru: number; wru: number }) => {
      for (let i = 0; i < units.rru; i++) count(RRU);
      for (let i = 0; i < units.wru; i++) count(WRU);
    };
    if (!call.error) return add(requestUnits(call.operation, input, plainItems(call.output) as Output));
    const name = (call.error as { name?: string }).name ?? '';
    if (name === 'ConditionalCheckFailedException') add({ rru: 0, wru: 1 });
    if (name === 'TransactionCanceledException') add({ rru: 0, wru: 2 * (input.TransactItems?.length ?? 1) });
  });
}

/** What one unit of work (a federated flow, a token) costs, by item, in US dollars. */
export interface UnitCost {
  requests: number;
  lambdaMs: number;
  rru: number;
  wru: number;
  kmsSign: number;
  kmsSymmetric: number;
  dollars: { lambda: number; edge: number; dynamodb: number; kms: number; total: number };
}

export type SignerMode = 'kms' | 'tenant';

/**
 * KMS calls of one unit in a signer mode. Counted `kms:<Operation>` calls are used when the
 * counters have them; otherwise SIGNER=kms is one `Sign` per signature (`signer:signJwt`) and
 * SIGNER=tenant none once a container holds the tenant's key. SecretBox seals and opens are one
 * symmetric KMS call each with SECRET_BOX=kms.
 */
export function kmsCalls(
  calls: CallCounts,
  mode: SignerMode,
): { sign: number; symmetric: number; source: string } {
  const counted = Object.keys(calls).some((k) => k.startsWith('kms:'));
  const symmetric =
    (calls['kms:Encrypt'] ?? 0) +
    (calls['kms:Decrypt'] ?? 0) +
    (calls['kms:GenerateDataKey'] ?? 0) +
    (counted ? 0 : (calls['secretBox:seal'] ?? 0) + (calls['secretBox:open'] ?? 0));
  if (counted && mode === 'kms' && (calls['kms:Sign'] ?? 0) > 0)
    return { sign: calls['kms:Sign'] ?? 0, symmetric, source: 'counted kms:* calls' };
  if (mode === 'kms')
    return { sign: calls['signer:signJwt'] ?? 0, symmetric, source: '1 Sign per signature (signer:signJwt)' };
  return { sign: 0, symmetric, source: 'tenant key held by the warm container: 0 Sign' };
}

/**
 * The cost of one unit: `requests` API calls (one Lambda invocation each), the counted calls per
 * unit, and the Node CPU time per unit measured by the bench. Lambda duration is modelled as that
 * CPU time plus an assumed round trip per DynamoDB and KMS call (bench/prices.ts).
 */
export function unitCost(requests: number, calls: CallCounts, cpuMs: number, mode: SignerMode): UnitCost {
  const dynamoCalls = Object.entries(calls)
    .filter(([k]) => k.startsWith('dynamodb:'))
    .reduce((n, [, v]) => n + v, 0);
  const kms = kmsCalls(calls, mode);
  const lambdaMs =
    cpuMs + dynamoCalls * ASSUMED_LATENCY_MS.dynamodb + (kms.sign + kms.symmetric) * ASSUMED_LATENCY_MS.kms;
  // Billed per invocation in 1 ms steps: spread the modelled time evenly over the invocations.
  const billedMs =
    requests * Math.ceil(lambdaMs / requests / PRICES.lambda.billingStepMs) * PRICES.lambda.billingStepMs;
  const gbSeconds = (STACK.lambdaMemoryMb / 1024) * (billedMs / 1000);
  const rru = calls[RRU] ?? 0;
  const wru = calls[WRU] ?? 0;
  const lambda =
    gbSeconds * PRICES.lambda.perGbSecondArm64 + (requests * PRICES.lambda.perMillionRequests) / 1e6;
  // The region's edge: the REST API and the web ACL in front of it both bill every request.
  const edge = (requests * (PRICES.restApi.perMillionRequests + PRICES.waf.perMillionRequests)) / 1e6;
  const dynamodb =
    (rru * PRICES.dynamodb.perMillionReadRequestUnits + wru * PRICES.dynamodb.perMillionWriteRequestUnits) /
    1e6;
  const kmsDollars =
    (kms.sign * PRICES.kms.perTenThousandRsa2048 + kms.symmetric * PRICES.kms.perTenThousandSymmetric) / 1e4;
  return {
    requests,
    lambdaMs: billedMs,
    rru,
    wru,
    kmsSign: kms.sign,
    kmsSymmetric: kms.symmetric,
    dollars: { lambda, edge, dynamodb, kms: kmsDollars, total: lambda + edge + dynamodb + kmsDollars },
  };
}

/** The cost table: US dollars per million units, per signer mode. */
export function costTable(
  rows: { label: string; requests: number; calls: CallCounts; cpuMs: number }[],
): string[] {
  const usd = (v: number) => `$${(v * 1e6).toFixed(2)}`;
  const n = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
  const head = `  ${'per unit'.padEnd(42)}${'req'.padStart(4)}${'Lambda ms'.padStart(10)}${'RRU'.padStart(5)}${'WRU'.padStart(5)}${'KMS'.padStart(5)}  |${'Lambda'.padStart(8)}${'API + WAF'.padStart(10)}${'DynamoDB'.padStart(10)}${'KMS'.padStart(8)}${'total'.padStart(9)}`;
  const lines = [head];
  const sources = new Set<string>();
  for (const row of rows) {
    for (const mode of ['kms', 'tenant'] as const) {
      const c = unitCost(row.requests, row.calls, row.cpuMs, mode);
      sources.add(`SIGNER=${mode}: ${kmsCalls(row.calls, mode).source}`);
      const d = c.dollars;
      lines.push(
        `  ${`${row.label}, SIGNER=${mode}`.padEnd(42)}${n(c.requests).padStart(4)}${n(c.lambdaMs).padStart(10)}${n(c.rru).padStart(5)}${n(c.wru).padStart(5)}${n(c.kmsSign + c.kmsSymmetric).padStart(5)}  |${usd(d.lambda).padStart(8)}${usd(d.edge).padStart(10)}${usd(d.dynamodb).padStart(10)}${usd(d.kms).padStart(8)}${usd(d.total).padStart(9)}`,
      );
    }
  }
  lines.push(`  KMS calls: ${[...sources].join('; ')}`);
  return lines;
}
