/**
 * The storage port. One table per region holds everything; an item is addressed by a partition key
 * (`pk`) and a sort key (`sk`) and may carry `expiresAt` (epoch seconds, the table's TTL attribute).
 *
 * TTL is not expiry: DynamoDB deletes expired items up to days late, so every read here treats an
 * item whose `expiresAt` has passed as absent.
 */
export interface Key {
  pk: string;
  sk: string;
}

export type Item = Record<string, unknown> & Partial<Key> & { expiresAt?: number };

export type ConsumeResult<T> =
  | { status: 'consumed'; item: T }
  | { status: 'missing' }
  | { status: 'expired'; item: T }
  | { status: 'replayed'; item: T };

export type WriteOp =
  | { put: { key: Key; item: Item; ifAbsent?: boolean } }
  | { delete: { key: Key; ifPresent?: boolean } }
  /** With `match`, only while the item exists and each listed attribute has that value. */
  | { update: { key: Key; set: Item; ifPresent?: boolean; match?: Record<string, string> } }
  /** One-time use inside a transaction: sets `consumedAt` if the item is live, unused and matches `match`. */
  | { consume: { key: Key; match?: Record<string, string>; set?: Item } }
  /**
   * Writes nothing; the transaction only succeeds while the item is absent (or expired) or its
   * numeric `attribute` is below `value` (a DynamoDB ConditionCheck): a read folded into the write.
   */
  | { check: { key: Key; absentOrBelow: { attribute: string; value: number } } };

export interface IncrementOptions {
  /** How much to add (default 1; may be negative). */
  by?: number;
  /** Only while the current value (0 when absent) is below this: a limit racing callers can never pass. */
  below?: number;
  /**
   * Create the item if it is missing or expired, with these attributes (e.g. the `expiresAt` of a
   * rate-limit window); on an existing item they are left as they are. Without it the item must
   * exist and be live.
   */
  create?: Item;
  /** Fail if the item has been consumed. */
  unconsumed?: boolean;
}

export interface UpdateOptions {
  unconsumed?: boolean;
  match?: Record<string, string>;
}

export interface Store {
  /** Strongly consistent read; expired items read as absent. */
  get<T extends Item>(key: Key): Promise<T | undefined>;
  /**
   * Strongly consistent reads of up to 100 items in one round trip (DynamoDB `BatchGetItem`), in
   * the order of `keys`; missing or expired items read as `undefined`. Not a snapshot: each item
   * is read consistently on its own, as separate `get`s would be.
   */
  batchGet<T extends Item>(keys: readonly Key[]): Promise<(T | undefined)[]>;
  /** Writes an item; with `ifAbsent` it fails with `ConditionFailedError` if a live item exists. */
  put(key: Key, item: Item, opts?: { ifAbsent?: boolean }): Promise<void>;
  /**
   * Sets attributes of an existing, unexpired item; `ConditionFailedError` if there is none (or,
   * with `unconsumed`, if it has been consumed; or, with `match`, if an attribute listed there has
   * another value: optimistic concurrency in one write, without a transaction's conflicts).
   */
  update<T extends Item>(key: Key, set: Item, opts?: UpdateOptions): Promise<T>;
  /**
   * Adds strings to a string-set attribute of an existing, unexpired item in one atomic write
   * (DynamoDB `ADD`): concurrent adds all land, with no read first. `ConditionFailedError` if
   * there is no such item.
   */
  addToSet(key: Key, attr: string, values: readonly string[]): Promise<void>;
  delete(key: Key): Promise<void>;
  /** Items of one partition, optionally those whose sort key starts with a prefix; expired ones left out. */
  query<T extends Item>(pk: string, skPrefix?: string): Promise<T[]>;
  /**
   * Atomic one-time use: marks the item consumed with one conditional write,
   * so of any number of concurrent callers exactly one gets `consumed`. The others learn whether the
   * item was already used (`replayed`, with the item, so the caller can revoke what it issued),
   * expired, or never existed.
   */
  consume<T extends Item>(key: Key, extra?: Item): Promise<ConsumeResult<T>>;
  /**
   * Atomic counter: adds to the number at `attr` (a top-level attribute, or
   * a path into a map that exists, as `['totp', 'lastStep']`) in one conditional write and returns the
   * item as written. `ConditionFailedError` when a condition of `opts` does not hold, so of any
   * number of concurrent callers at most `below` ever get through.
   */
  increment<T extends Item>(key: Key, attr: string | readonly string[], opts?: IncrementOptions): Promise<T>;
  /** All-or-nothing writes (a failure half-way leaves nothing written). */
  transact(ops: WriteOp[]): Promise<void>;
  /** Operator use only: every item whose partition key starts with a prefix (a scan). */
  scanPrefix<T extends Item>(pkPrefix: string): Promise<T[]>;
}

export class ConditionFailedError extends Error {
  constructor(
    message = 'conditional write failed',
    /**
     * For a transaction: per operation, in order, the item as it was when the condition of that
     * operation failed (`undefined` where it held, or the item was missing). Lets a caller act on
     * what won the race without reading it again.
     */
    readonly current?: readonly (Item | undefined)[],
  ) {
    super(message);
    this.name = 'ConditionFailedError';
  }
}

export const nowSeconds = (now = Date.now()): number => Math.floor(now / 1000);

export function isExpired(item: { expiresAt?: number } | undefined, now = Date.now()): boolean {
  return typeof item?.expiresAt === 'number' && item.expiresAt * 1000 <= now;
}
