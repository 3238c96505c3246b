import { config, issuerFor, tenantOrigin } from '../config.js';
import type { RegionCode } from '../regions.js';
import { servicesFor, type RegionServices } from '../services.js';
import { notFound, ProtocolError } from '../errors.js';
import type { Signer } from '../signing/signer.js';
import type { TenantStore } from '../store/tenant-store.js';
import { resolveHost } from '../tenants/host.js';
import type { Tenant } from '../tenants/tenant.js';
import { render, wrapped, type ErrorStyle, type LambdaHandler, type Request } from './lambda.js';
import type { HttpRequest, HttpResponse } from './request.js';
import { tenantResolved } from './lambda.js';

export { errorResponse, json, publicHandler, type ErrorStyle, type LambdaHandler } from './lambda.js';

/** Everything a tenant-scoped handler needs, resolved from the host before the handler runs. */
export interface TenantContext {
  tenant: Tenant;
  region: RegionCode;
  services: RegionServices;
  /** The tenant's slice of the region's table. */
  store: TenantStore;
  /** Signs and verifies this tenant's tokens: its own keys (`SIGNER=tenant`) or the region's. */
  signer: Signer;
  /** `https://<tenant>.<region>.<base>` */
  origin: string;
  /** `<origin>/oidc` */
  issuer: string;
}

/**
 * Resolves `<tenant>.<region>.<base>` before any handler logic: tenant first, so every key a
 * handler can reach starts with the tenant id.
 */
export async function resolveTenant(req: HttpRequest): Promise<TenantContext> {
  const cfg = config();
  const host = resolveHost(req.host, cfg);
  if (host.kind === 'malformed')
    throw new ProtocolError(400, 'invalid_host', `malformed host: ${host.reason}`);
  if (host.kind === 'misdirected') {
    throw new ProtocolError(
      421,
      'misdirected_request',
      `region "${host.region}" is not served by this deployment`,
    );
  }
  const services = await servicesFor(host.region);
  const tenant = await services.tenants.findBySlug(host.slug);
  // Same answer whether or not the slug exists in another region: no hint where a tenant lives.
  if (!tenant) throw notFound('no such tenant', 'unknown_tenant');
  const store = services.tenants.scoped(tenant.id);
  return {
    tenant,
    region: host.region,
    services,
    store,
    signer: services.signerFor(store),
    origin: tenantOrigin(cfg, tenant.slug, host.region),
    issuer: issuerFor(cfg, tenant.slug, host.region),
  };
}

/** A handler on a tenant's host: the tenant is resolved first; unknown or malformed hosts never reach `fn`. */
export function tenantHandler(
  fn: (req: HttpRequest, ctx: TenantContext) => Promise<HttpResponse>,
  opts: { errors?: ErrorStyle } = {},
): LambdaHandler {
  return wrapped(opts.errors)
    .before(async (request: Request) => {
      const state = request.context.state!;
      state.tenant = await resolveTenant(state.req);
      tenantResolved(state);
    })
    .handler(async (_event, context) => {
      const state = context.state!;
      // Set by the `before` step above, which resolved it to a whole TenantContext.
      return render(await fn(state.req, state.tenant as TenantContext));
    }) as unknown as LambdaHandler;
}
