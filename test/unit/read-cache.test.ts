import { describe, expect, it } from 'vitest';
import { ReadCache } from '../../functions/read-cache.js';

/** A load that counts its calls and resolves only when told to. */
function gatedLoad<V>(value: V) {
  let calls = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const load = async () => {
    calls++;
    await gate;
    return value;
  };
  return { load, open: () => open(), calls: () => calls };
}

describe('ReadCache', () => {
  it('thirty concurrent misses for one key share a single read', async () => {
    const cache = new ReadCache<string>();
    const read = gatedLoad('tenant-a');
    const all = Array.from({ length: 30 }, () => cache.get('k', 10_000, read.load));
    read.open();
    expect(await Promise.all(all)).toEqual(Array(30).fill('tenant-a'));
    expect(read.calls()).toBe(1);
    // Remembered afterwards: no further read.
    expect(await cache.get('k', 10_000, read.load)).toBe('tenant-a');
    expect(read.calls()).toBe(1);
  });

  it('a value read before a write is not kept once the write forgot the key', async () => {
    const cache = new ReadCache<string>();
    const before = gatedLoad('old');
    const first = cache.get('k', 10_000, before.load);
    cache.forget('k');
    // A caller after the write reads again instead of joining the older read...
    const after = gatedLoad('new');
    const second = cache.get('k', 10_000, after.load);
    before.open();
    after.open();
    expect(await first).toBe('old');
    expect(await second).toBe('new');
    // ...and the older read's result was not stored over the newer one.
    expect(await cache.get('k', 10_000, async () => 'unused')).toBe('new');
  });

  it('misses and failures are not remembered; ttl 0 reads every time', async () => {
    const cache = new ReadCache<string>();
    expect(await cache.get('missing', 10_000, async () => undefined)).toBeUndefined();
    expect(await cache.get('missing', 10_000, async () => 'created')).toBe('created');

    await expect(cache.get('flaky', 10_000, () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await cache.get('flaky', 10_000, async () => 'up')).toBe('up');

    let reads = 0;
    const count = async () => `read ${++reads}`;
    await Promise.all([cache.get('off', 0, count), cache.get('off', 0, count)]);
    expect(reads).toBe(2);
    expect(cache.has('off')).toBe(false);
  });

  it('an entry expires after its ttl', async () => {
    const cache = new ReadCache<string>();
    await cache.get('k', 1, async () => 'v1');
    await new Promise((r) => setTimeout(r, 5));
    expect(cache.has('k')).toBe(false);
    expect(await cache.get('k', 1, async () => 'v2')).toBe('v2');
  });
});

describe('ReadCache, stale while one read refreshes', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('answers the expired value at once, refreshes it with one read, then answers the new one', async () => {
    const cache = new ReadCache<string>();
    await cache.get('k', 20, async () => 'old', 1_000);
    await sleep(30); // expired, inside the stale time
    const refresh = gatedLoad('new');
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => cache.get('k', 20, refresh.load, 1_000)),
    );
    expect(answers).toEqual(Array(30).fill('old'));
    expect(refresh.calls()).toBe(1);
    refresh.open();
    await sleep(0);
    expect(await cache.get('k', 20, async () => 'unused', 1_000)).toBe('new');
  });

  it('past the stale time, callers wait for the read as without it', async () => {
    const cache = new ReadCache<string>();
    await cache.get('k', 10, async () => 'old', 10);
    await sleep(40);
    expect(await cache.get('k', 10, async () => 'new', 10)).toBe('new');
  });

  it('a failed refresh keeps the old value and throws at nobody; the next call tries again', async () => {
    const cache = new ReadCache<string>();
    await cache.get('k', 10, async () => 'old', 5_000);
    await sleep(20);
    let calls = 0;
    const failing = async (): Promise<string> => {
      calls++;
      throw new Error('table unavailable');
    };
    expect(await cache.get('k', 10, failing, 5_000)).toBe('old');
    await sleep(0);
    expect(await cache.get('k', 10, failing, 5_000)).toBe('old');
    expect(calls).toBe(2);
  });

  it('a refresh that a write forgot is not kept, and the key is read afresh', async () => {
    const cache = new ReadCache<string>();
    await cache.get('k', 10, async () => 'old', 5_000);
    await sleep(20);
    const refresh = gatedLoad('stale-read');
    expect(await cache.get('k', 10, refresh.load, 5_000)).toBe('old');
    cache.forget('k');
    refresh.open();
    await sleep(0);
    expect(await cache.get('k', 10, async () => 'after-write', 5_000)).toBe('after-write');
  });
});
