/**
 * A lockout is refused again on every request while it lasts; an attacker hammering a locked
 * account must not turn each refusal into a write. The event is recorded once per lock and
 * container (the lock's key and end), so a lock shows up once, or a few times across containers.
 */
const MAX_REMEMBERED = 10_000;
const remembered = new Map<string, number>();

/** True the first time this container sees `key` before `untilMs`. */
export function firstTime(key: string, untilMs: number, now = Date.now()): boolean {
  const until = remembered.get(key);
  if (until !== undefined && until > now) return false;
  remembered.delete(key);
  remembered.set(key, untilMs);
  if (remembered.size > MAX_REMEMBERED) remembered.delete(remembered.keys().next().value!);
  return true;
}
