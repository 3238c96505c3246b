import { config } from '../config.js';
import { randomUUID } from 'node:crypto';
import type * as z from '../zod.js';
import { randomSecret, sha256 } from '../crypto/secrets.js';
import { revokeClient } from '../oidc/revocations.js';
import { ReadCache } from '../read-cache.js';
import type { TenantStore } from '../store/tenant-store.js';
import type { Tenant } from '../tenants/tenant.js';
import {
  DEFAULT_ACCESS_TOKEN_LIFETIME,
  DEFAULT_ID_TOKEN_LIFETIME,
  DEFAULT_REFRESH_TOKEN_ABSOLUTE_LIFETIME,
  DEFAULT_REFRESH_TOKEN_LIFETIME,
  clientRuleViolation,
  isClientId,
  withDefaults,
  type Client,
  type createClientSchema,
  type patchClientSchema,
} from './client.js';

/** Client reads cached per container; other containers see a change within `TENANT_CACHE_SECONDS`. */
const clientCache = new ReadCache<Client>();

const key = (clientId: string) => ({ pk: 'clients', sk: clientId });

/** The built-in client as it is before the tenant registers anything: its client_id is the tenant id. */
export function builtInClient(tenant: Tenant): Client {
  return {
    client_id: tenant.id,
    client_name: `${tenant.name} (built-in)`,
    built_in: true,
    client_type: 'confidential',
    redirect_uris: [],
    post_logout_redirect_uris: [],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    scope: 'openid',
    token_endpoint_auth_method: 'client_secret_post',
    require_pkce: false,
    require_pushed_authorization_requests: false,
    first_party: true,
    access_token_lifetime: DEFAULT_ACCESS_TOKEN_LIFETIME,
    id_token_lifetime: DEFAULT_ID_TOKEN_LIFETIME,
    id_token_signed_response_alg: 'RS256',
    access_token_signed_response_alg: 'RS256',
    resources: [],
    refresh_token_lifetime: DEFAULT_REFRESH_TOKEN_LIFETIME,
    refresh_token_absolute_lifetime: DEFAULT_REFRESH_TOKEN_ABSOLUTE_LIFETIME,
    created_at: tenant.createdAt,
    updated_at: tenant.createdAt,
  };
}

/** Whether the tenant has this client: the built-in one (client id = tenant id) or a registered one. */
export async function clientExists(store: TenantStore, clientId: string): Promise<boolean> {
  if (!isClientId(clientId)) return false;
  if (clientId === store.tenantId) return true;
  // A client this container has read lately exists (the same staleness as ClientRepository.get).
  if (clientCache.has(`${store.tenantId}:${clientId}`)) return true;
  return (await store.get(key(clientId))) !== undefined;
}

/** A tenant's OIDC clients, one partition per tenant (`<tenantId>#clients`, sort key = client id). */
export class ClientRepository {
  constructor(
    private readonly store: TenantStore,
    private readonly tenant: Tenant,
    /** How long a warm container reuses a client read, so it is not read on every request; 0 turns it off. */
    private readonly cacheMs = config().tenantCacheSeconds * 1000,
  ) {}

  private cacheKey(clientId: string): string {
    return `${this.tenant.id}:${clientId}`;
  }

  /** Every write goes through here, so this container never serves its own stale copy. */
  private forget(clientId: string): void {
    clientCache.forget(this.cacheKey(clientId));
  }

  async get(clientId: string): Promise<Client | undefined> {
    if (!isClientId(clientId)) return undefined;
    return clientCache.get(this.cacheKey(clientId), this.cacheMs, () => this.read(clientId));
  }

  private async read(clientId: string): Promise<Client | undefined> {
    const stored = await this.store.get<Client & Record<string, unknown>>(key(clientId));
    if (stored) return withDefaults(stored);
    return clientId === this.tenant.id ? builtInClient(this.tenant) : undefined;
  }

  async list(): Promise<Client[]> {
    const stored = await this.store.query<Client & Record<string, unknown>>('clients');
    const clients = stored.map(({ sk: _sk, ...c }) => withDefaults(c));
    if (!clients.some((c) => c.client_id === this.tenant.id)) clients.unshift(builtInClient(this.tenant));
    return clients;
  }

  async create(input: z.output<typeof createClientSchema>): Promise<{ client: Client; secret?: string }> {
    const now = new Date().toISOString();
    // RFC 7591 §2: `token_endpoint_auth_method: none` alone makes a public client; a contradicting
    // explicit `client_type: confidential` is refused by clientRuleViolation.
    const clientType =
      input.client_type ?? (input.token_endpoint_auth_method === 'none' ? 'public' : 'confidential');
    const isPublic = clientType === 'public';
    const method = input.token_endpoint_auth_method ?? (isPublic ? 'none' : 'client_secret_basic');
    // A client that signs assertions with its own key has no secret (RFC 7523 §2.2).
    const secret = isPublic || method === 'private_key_jwt' ? undefined : randomSecret();
    const client: Client = {
      client_id: randomUUID(),
      ...input,
      client_type: clientType,
      built_in: false,
      token_endpoint_auth_method: method,
      // PKCE is required of every new client (RFC 9700 §2.1.1); only a confidential one may opt out
      // with require_pkce: false. The built-in client keeps its own default (builtInClient).
      require_pkce: input.require_pkce ?? true,
      created_at: now,
      updated_at: now,
      ...(secret ? { secret_hash: sha256(secret) } : {}),
    };
    const violation = clientRuleViolation(client);
    if (violation) throw new ClientRuleError(violation);
    await this.store.put(key(client.client_id), { ...client }, { ifAbsent: true });
    return { client, secret };
  }

  async patch(clientId: string, changes: z.output<typeof patchClientSchema>): Promise<Client | undefined> {
    const current = await this.get(clientId);
    if (!current) return undefined;
    const merged: Record<string, unknown> = { ...current, ...stripUndefined(changes) };
    // `null` removes an optional field (the client goes back to the default behaviour).
    for (const field of NULLABLE_FIELDS) if (merged[field] === null) delete merged[field];
    const updated = { ...(merged as unknown as Client), updated_at: new Date().toISOString() };
    const violation = clientRuleViolation(updated);
    if (violation) throw new ClientRuleError(violation);
    const secretMethod = updated.token_endpoint_auth_method.startsWith('client_secret_');
    if (secretMethod && !updated.built_in && !updated.secret_hash) {
      throw new ClientRuleError(
        'this client has no secret yet: rotate it (POST /v1/clients/{clientId}/secret) first',
      );
    }
    await this.store.put(key(clientId), { ...updated });
    this.forget(clientId);
    return updated;
  }

  async rotateSecret(clientId: string): Promise<{ client: Client; secret: string } | undefined> {
    const current = await this.get(clientId);
    if (!current) return undefined;
    if (current.built_in)
      throw new ClientRuleError(
        "the built-in client's secret is the tenant secret: rotate it with the operator CLI",
      );
    if (current.client_type === 'public') throw new ClientRuleError('a public client has no secret');
    const secret = randomSecret();
    const client = { ...current, secret_hash: sha256(secret), updated_at: new Date().toISOString() };
    await this.store.put(key(clientId), { ...client });
    this.forget(clientId);
    return { client, secret };
  }

  /**
   * Deletes a registered client; the built-in client cannot be deleted (it is the tenant). Its
   * tokens, refresh token families and outstanding codes are revoked first, so whatever fails later,
   * nothing issued to it works any more (introspection by a resource server included).
   */
  async delete(clientId: string): Promise<boolean> {
    if (clientId === this.tenant.id) throw new ClientRuleError('the built-in client cannot be deleted');
    if (!isClientId(clientId)) return false;
    const current = await this.store.get(key(clientId));
    if (!current) return false;
    await revokeClient(this.store, clientId);
    await this.store.delete(key(clientId));
    this.forget(clientId);
    return true;
  }
}

/** Optional metadata that PATCH removes with `null`. */
const NULLABLE_FIELDS = [
  'jwks',
  'request_object_signing_alg',
  'backchannel_logout_uri',
  'userinfo_signed_response_alg',
] as const;

export class ClientRuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientRuleError';
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
