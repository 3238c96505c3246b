import { authenticatorsFor } from '../authenticators/for-tenant.js';
import { parseJson } from '../http/body.js';
import { validate } from '../validate.js';
import { notFound } from '../errors.js';
import { json, tenantHandler } from '../http/handler.js';
import { audit } from '../http/audit.js';
import { requireTenantSecret } from '../http/tenant-auth.js';
import { ClientRepository } from '../clients/client-repository.js';
import { notifyLogout } from '../oidc/backchannel-logout.js';
import { mergeProfile, profileSchema } from '../users/profile.js';
import { deleteUser, ProfileRepository } from '../users/profile-repository.js';
import { UserRecords } from '../users/user-records.js';
import { userIdSchema, userPatchSchema } from '../users/user-schemas.js';

/**
 * /v1/users/{userId}:
 * GET    — the user, whether they are enrolled, their authenticators and profile
 * PUT    — creates (201) or replaces (200) the profile; email and username must be free
 * PATCH  — changes the profile as a JSON Merge Patch (RFC 7396; null removes a field)
 * DELETE — the profile, login identifiers, authenticators and outcome records; tokens revoked
 *
 * A login identifier another user holds answers 409 `login_taken`, a concurrent change 409
 * `conflict` (functions/http/domain-errors.ts).
 */
export const handler = tenantHandler(async (req, ctx) => {
  await requireTenantSecret(req, ctx);
  // A userId no /init-auth call can create (e.g. 3000 characters) is a 400, never a key DynamoDB rejects.
  const userId = validate(userIdSchema, req.pathParams.userId);
  const records = new UserRecords(ctx.store);
  const profiles = new ProfileRepository(ctx.store);
  if (req.method === 'PUT') {
    const input = parseJson(req, profileSchema);
    const { created } = await profiles.put(userId, input);
    const type = created ? 'user.created' : 'user.updated';
    await audit(req, ctx).record({ type, detail: { userId, fields: Object.keys(input) } });
    return json(created ? 201 : 200, await records.view(userId));
  }
  if (req.method === 'PATCH') {
    const patch = parseJson(req, userPatchSchema);
    const current = await profiles.read(userId);
    if (!current) throw notFound('the user has no profile: create it with PUT');
    const { created_at: _c, updated_at: _u, ...fields } = current.profile;
    const input = validate(profileSchema, mergeProfile(fields, patch));
    await profiles.put(userId, input, { ifVersion: current.version });
    await audit(req, ctx).record({ type: 'user.updated', detail: { userId, fields: Object.keys(patch) } });
    return json(200, await records.view(userId));
  }
  if (req.method === 'DELETE') {
    const service = authenticatorsFor(ctx.store, ctx.services, ctx.tenant, ctx.origin);
    const { endedSessions } = await deleteUser(ctx.store, userId, (id) => service.remove(userId, id));
    await audit(req, ctx).record({ type: 'user.deleted', detail: { userId } });
    await audit(req, ctx).record({ type: 'session.ended', detail: { userId, reason: 'user_deleted' } });
    await notifyLogout(endedSessions, {
      clients: new ClientRepository(ctx.store, ctx.tenant),
      signer: ctx.signer,
      issuer: ctx.issuer,
      delivery: ctx.services.logoutDelivery,
    });
    return { status: 204 };
  }
  return json(200, await records.view(userId));
});
