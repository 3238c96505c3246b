import { Lru } from './lru.js';

/**
 * What a warm container remembers of a read for a short while (tenants, clients, failure
 * counters), so a request does not pay a table read for what did not change.
 *
 * Concurrent misses for one key share a single read (single flight): the local server and the
 * bench serve many requests in one process, and without it every request arriving just after an
 * entry expired read the same item at once — the tail latency of the whole run. On Lambda a
 * container serves one request at a time, so there it changes nothing.
 *
 * `forget` (called after every write the container makes) also detaches a read already in flight:
 * its result may predate the write, so it is neither stored nor handed to later callers.
 *
 * A cache may also serve an expired value for `staleMs` more while ONE read refreshes it in the
 * background (stale-while-revalidate), for values where a few milliseconds more of lateness costs
 * nothing but a read that every request would otherwise wait for (the failure counters, read every
 * second): no request then waits for the refresh, on Lambda or in the bench's tail.
 */
export class ReadCache<V> {
  private readonly entries: Lru<string, { value: V; until: number }>;
  private readonly inFlight = new Map<string, Promise<V | undefined>>();

  constructor(capacity = 10_000) {
    this.entries = new Lru(capacity);
  }

  /**
   * The value under `key`: remembered, joined from a read in flight, or read by `load` and then
   * remembered for `ttlMs` (0 turns remembering and the sharing of reads off). Up to `staleMs`
   * after it expired, the remembered value is still answered while `load` refreshes it.
   */
  async get<R extends V | undefined>(
    key: string,
    ttlMs: number,
    load: () => Promise<R>,
    staleMs = 0,
  ): Promise<R> {
    if (ttlMs <= 0) return load();
    const hit = this.entries.get(key);
    const now = Date.now();
    if (hit && hit.until > now) return hit.value as R;
    const pending = this.inFlight.get(key);
    if (hit && hit.until + staleMs > now) {
      // A failed refresh leaves the old value in place until its stale time runs out too.
      if (!pending) this.read(key, ttlMs, load).catch(() => undefined);
      return hit.value as R;
    }
    // A read in flight for this key came from a `load` of the same kind (one key, one kind of read).
    if (pending) return pending as Promise<R>;
    return this.read(key, ttlMs, load);
  }

  private read<R extends V | undefined>(key: string, ttlMs: number, load: () => Promise<R>): Promise<R> {
    const flight = load().then(
      (value) => {
        if (this.inFlight.get(key) === flight) {
          this.inFlight.delete(key);
          // Misses are not remembered: a record created a moment later is found at once.
          if (value !== undefined) this.entries.set(key, { value, until: Date.now() + ttlMs });
        }
        return value;
      },
      (err: unknown) => {
        if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
        throw err;
      },
    );
    this.inFlight.set(key, flight);
    return flight;
  }

  /** Whether `key` holds a value that is still fresh (no read, no refresh). */
  has(key: string): boolean {
    const hit = this.entries.get(key);
    return hit !== undefined && hit.until > Date.now();
  }

  forget(key: string): void {
    this.entries.delete(key);
    this.inFlight.delete(key);
  }
}
