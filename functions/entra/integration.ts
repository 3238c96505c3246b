import * as z from '../zod.js';
import type { TenantStore } from '../store/tenant-store.js';

/**
 * A tenant's Microsoft Entra ID external authentication method (EAM) integration: which Entra
 * tenants may send their users here, the provider application whose `id_token_hint`s are accepted,
 * and the client Entra uses at the authorization endpoint. One per tenant, one item.
 */

/** Entra tenant and application ids are GUIDs (lower-cased when stored; Entra writes them lower-case). */
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const guid = (what: string) =>
  z.pipe(
    z.string().check(z.regex(GUID, `${what} is a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`)),
    z.transform((s: string) => s.toLowerCase()),
  );

/**
 * The reply URL of Entra's EAM profile ("external method provider reference"): Entra receives the
 * form-posted ID token there. Stored as the administrator gives it and matched exactly.
 */
export const ENTRA_CALLBACK = 'https://login.microsoftonline.com/common/federation/externalauthprovider';

export const putEntraSchema = z.strictObject({
  tenantIds: z
    .array(guid('each of tenantIds'))
    .check(z.minLength(1, 'tenantIds lists at least one Entra tenant id'), z.maxLength(100)),
  applicationId: guid('applicationId'),
  clientId: z
    .string()
    .check(z.regex(/^[A-Za-z0-9._~-]{1,128}$/, 'clientId is 1 to 128 letters, digits, ".", "_", "~" or "-"')),
  redirectUri: z._default(
    z.url({ protocol: /^https$/, error: 'redirectUri is an https URL' }).check(z.maxLength(512)),
    ENTRA_CALLBACK,
  ),
  linkExistingUsers: z._default(z.boolean(), false),
  allowEnrollment: z._default(z.boolean(), false),
});

export type EntraIntegration = z.output<typeof putEntraSchema> & { updatedAt: string };

const KEY = { pk: 'integration#entra', sk: 'config' };

export class EntraIntegrationRepository {
  constructor(private readonly store: TenantStore) {}

  async get(): Promise<EntraIntegration | undefined> {
    const item = await this.store.get<EntraIntegration & Record<string, unknown>>(KEY);
    if (!item) return undefined;
    const { tenantIds, applicationId, clientId, redirectUri, linkExistingUsers, allowEnrollment, updatedAt } =
      item;
    return { tenantIds, applicationId, clientId, redirectUri, linkExistingUsers, allowEnrollment, updatedAt };
  }

  async put(input: z.output<typeof putEntraSchema>, now = Date.now()): Promise<EntraIntegration> {
    const integration: EntraIntegration = {
      ...input,
      tenantIds: [...new Set(input.tenantIds)],
      updatedAt: new Date(now).toISOString(),
    };
    await this.store.put(KEY, { ...integration });
    return integration;
  }

  async delete(): Promise<boolean> {
    const existed = (await this.store.get(KEY)) !== undefined;
    await this.store.delete(KEY);
    return existed;
  }
}

/**
 * The discovery document of a tenant with an Entra integration: Entra reads it from the EAM's
 * discovery URL and looks for the implicit `id_token` response type and the claims its ID token
 * carries ("external method provider reference", provider metadata).
 */
export function withEntraMetadata(doc: Record<string, unknown>): Record<string, unknown> {
  const union = (key: string, more: string[]) => [
    ...new Set([...((doc[key] as string[] | undefined) ?? []), ...more]),
  ];
  return {
    ...doc,
    response_types_supported: union('response_types_supported', ['id_token']),
    claims_supported: union('claims_supported', ['tid', 'oid', 'acr', 'amr', 'nonce']),
  };
}
