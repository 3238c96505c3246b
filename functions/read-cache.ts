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
 */
export class ReadCache<V> {
  private readonly entries: Lru<string, { value: V; until: number }>;
  private readonly inFlight = new Map<string, Promise<V | undefined>>();

  constructor(capacity = 10_000) {
    this.entries = new Lru(capacity);
  }

  /**
   * The value under `key`: remembered, joined from a read in flight, or read by `load` and then
   * remembered for `ttlMs` (0 turns remembering and the sharing of reads off).
   */
  async get<R extends V | undefined>(key: string, ttlMs: number, load: () => Promise<R>): Promise<R> {
    if (ttlMs <= 0) return load();
    const hit = this.entries.get(key);
    if (hit && hit.until > Date.now()) return hit.value as R;
    const pending = this.inFlight.get(key);
    // A read in flight for this key came from a `load` of the same kind (one key, one kind of read).
    if (pending) return pending as Promise<R>;
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
