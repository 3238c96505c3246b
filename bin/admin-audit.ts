/**
 * `audit-events`: a tenant's audit events, read by the operator CLI from the region's table
 * (functions/audit/query.ts). Without `--follow` one page, newest first, as one JSON object; with
 * it, the newest events and then every new one, oldest first, one JSON line each, polling every
 * 2 seconds until interrupted.
 */
import type { AuditEvent } from '../functions/audit/events.js';
import { auditQuerySchema, listAuditEvents, type AuditQuery } from '../functions/audit/query.js';
import type { TenantRepository } from '../functions/tenants/tenant-repository.js';

export interface AuditOptions {
  type?: string;
  user?: string;
  since?: string;
}

/** The filters as the endpoint takes them, or a message naming what is wrong. */
export function auditFilters(opts: AuditOptions): AuditQuery | string {
  const parsed = auditQuerySchema.safeParse({
    ...(opts.type ? { type: opts.type } : {}),
    ...(opts.user ? { userId: opts.user } : {}),
    ...(opts.since ? { since: opts.since } : {}),
  });
  if (parsed.success) return parsed.data;
  return parsed.error.issues
    .map((i) => `--${i.path[0] === 'userId' ? 'user' : String(i.path[0])}: ${i.message}`)
    .join('; ');
}

export async function auditEvents(repo: TenantRepository, slug: string, q: AuditQuery): Promise<unknown> {
  const tenant = await repo.require(slug);
  return listAuditEvents(repo.scoped(tenant.id), tenant, { ...q, limit: 200 });
}

const POLL_MS = 2000;
/** Events can land a little late (a slow write, clocks of two functions): each poll looks back this far. */
const OVERLAP_MS = 10_000;

export async function followAuditEvents(
  repo: TenantRepository,
  slug: string,
  q: AuditQuery,
  print: (line: string) => void = (line) => process.stdout.write(line),
  rounds = Infinity,
): Promise<void> {
  const tenant = await repo.require(slug);
  const store = repo.scoped(tenant.id);
  const seen = new Map<string, number>();
  let since = q.since ? Date.parse(q.since) : Date.now() - 3600_000;
  for (let round = 0; round < rounds; round++) {
    const fresh: AuditEvent[] = [];
    let cursor: string | undefined;
    const from = new Date(Math.max(0, since - OVERLAP_MS)).toISOString();
    do {
      const query = { ...q, since: from, limit: 200, ...(cursor ? { cursor } : {}) };
      const page = await listAuditEvents(store, tenant, query);
      fresh.push(...page.events.filter((e) => !seen.has(e.id)));
      cursor = page.next_cursor;
    } while (cursor);
    for (const event of fresh.reverse()) {
      print(`${JSON.stringify(event)}\n`);
      seen.set(event.id, Date.parse(event.time));
      since = Math.max(since, Date.parse(event.time));
    }
    for (const [id, time] of seen) if (time < since - 2 * OVERLAP_MS) seen.delete(id);
    if (round + 1 < rounds) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
