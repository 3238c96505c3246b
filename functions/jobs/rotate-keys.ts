import { recordAudit } from '../audit/record.js';
import { config } from '../config.js';
import { logger } from '../log.js';
import { servicesFor } from '../services.js';
import { rotateKeys, ROTATION_PERIOD_MS } from '../signing/tenant-keys.js';

/**
 * The scheduled key rotation (not an HTTP route: an EventBridge rule runs it daily, lib/key-rotation.ts).
 * Every tenant of the region whose signing keys have signed for `ROTATION_PERIOD_MS` gets a next
 * key per algorithm, published now and signing an hour later; tenants made before per-tenant keys
 * get their first keys. One tenant's failure does not stop the others; the run fails at the end
 * so the function's error metric shows it.
 */
export async function handler(): Promise<{ tenants: number; rotated: number; failed: number }> {
  const cfg = config();
  let tenants = 0;
  let rotated = 0;
  let failed = 0;
  for (const region of cfg.servedRegions) {
    const services = await servicesFor(region);
    for (const tenant of await services.tenants.list()) {
      tenants++;
      try {
        const { added } = await rotateKeys(services.tenants.scoped(tenant.id), services.secretBox, {
          ifOlderThan: ROTATION_PERIOD_MS,
        });
        if (added.length) {
          rotated++;
          logger.info('signing keys rotated', { tenant: tenant.slug, region, kids: added.map((k) => k.kid) });
          const detail = { kids: added.map((k) => k.kid), trigger: 'schedule' as const };
          await recordAudit(
            services.tenants.scoped(tenant.id),
            { type: 'keys.rotated', detail },
            { actor: { kind: 'operator' } },
          );
        }
      } catch (err) {
        failed++;
        logger.error('signing key rotation failed', { tenant: tenant.slug, region, reason: String(err) });
      }
    }
  }
  if (failed) throw new Error(`key rotation failed for ${failed} of ${tenants} tenants`);
  return { tenants, rotated, failed };
}
