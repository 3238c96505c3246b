import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import '../functions/adapters/local.js';
import { ClientRepository } from '../functions/clients/client-repository.js';
import { servicesFor } from '../functions/services.js';
import type { Tenant } from '../functions/tenants/tenant.js';

export interface DemoTenant {
  tenant: Tenant;
  secret: string;
}

/**
 * Seeds the demo tenant (slug `demo`, region `us`). Its secret is kept in `.data/demo-tenant.json`
 * so every start can print it; that file is local development data, git-ignored, like the keys.
 */
export async function seedDemoTenant(dataDir: string, callbackUri?: string): Promise<DemoTenant> {
  const demo = await findOrCreateDemo(dataDir);
  if (callbackUri) await registerRedirectUri(demo, callbackUri);
  return demo;
}

/** The local callback page as one of the demo's built-in client's redirect URIs (kept with the others). */
async function registerRedirectUri(demo: DemoTenant, uri: string): Promise<void> {
  const { tenants } = await servicesFor('us');
  const clients = new ClientRepository(tenants.scoped(demo.tenant.id), demo.tenant, 0);
  const builtIn = await clients.get(demo.tenant.id);
  if (builtIn && !builtIn.redirect_uris.includes(uri)) {
    await clients.patch(demo.tenant.id, { redirect_uris: [...builtIn.redirect_uris, uri] });
  }
}

async function findOrCreateDemo(dataDir: string): Promise<DemoTenant> {
  const { tenants } = await servicesFor('us');
  const file = join(dataDir, 'demo-tenant.json');
  const existing = await tenants.findBySlug('demo');
  if (existing && existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { tenantId: string; secret: string };
    if (saved.tenantId === existing.id) return { tenant: existing, secret: saved.secret };
  }
  const created = existing
    ? await tenants.rotateSecret('demo')
    : await tenants.create({ slug: 'demo', name: 'Demo' });
  writeFileSync(file, JSON.stringify({ tenantId: created.tenant.id, secret: created.secret }, null, 2), {
    mode: 0o600,
  });
  return created;
}
