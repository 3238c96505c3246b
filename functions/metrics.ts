/**
 * Process-wide call counters: how many DynamoDB commands (by name: GetItem, PutItem, ...) and how
 * many JWT signatures this process has made. `services.ts` feeds them from an AWS SDK middleware
 * and a wrapper around the signer; `npm run bench` reads them to report what one login costs,
 * so that the number of calls per login stays small and known. A Map increment per call: cheap enough to stay on everywhere.
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
