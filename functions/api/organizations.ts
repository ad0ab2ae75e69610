import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import { decodeCursor, encodeCursor } from '#data/cursor';
import { orgMetaSk, orgPkPrefix, userPk } from '#data/keys';
import { getMembershipWith } from '#data/memberships';
import {
  createOrganizationWithOwner,
  deleteOrganization,
  listOrganizationsOfUser,
  renameOrganization as renameOrganizationItem,
  toOrganization,
} from '#data/organizations';
import { recordUserProfile } from '#data/users';
import { authorize } from '#domain/permissions';
import { BadRequestError, NotFoundError } from '#platform/errors';
import { type Caller, httpRoute, json } from '#platform/http';
import { orgParams, pageQuery, safeText } from '#platform/schemas';

const organizationName = safeText(1, 100);
const nameBody = z.strictObject({ name: organizationName });

function requireEmail(caller: Caller): string {
  if (!caller.email) {
    throw new BadRequestError(
      'Your token carries no verified email (email and email_verified claims)',
      undefined,
      'email_required',
    );
  }
  return caller.email;
}

export const createOrganization = /* @__PURE__ */ httpRoute(
  { body: nameBody },
  async ({ caller, body }) => {
    const email = requireEmail(caller);
    const orgId = `org_${randomUUID().replaceAll('-', '')}`;
    const organization = await createOrganizationWithOwner({
      orgId,
      name: body.name,
      owner: { userId: caller.userId, email },
    });
    return json(201, { ...present(organization), role: 'owner' });
  },
);

/**
 * Listing is the first call a client makes after sign-in, so it is where a user's profile (what
 * lets others add them by email) is recorded. The profile is read in the same round trip as the
 * organization names and written only when it is missing or its email changed: a steady-state
 * list costs no write. A caller without a verified email has nothing to record.
 */
export const listMyOrganizations = /* @__PURE__ */ httpRoute(
  { query: pageQuery },
  async ({ caller, query }) => {
    const { organizations, lastKey, profile } = await listOrganizationsOfUser(caller.userId, {
      limit: query.limit,
      startKey: decodeCursor(query.cursor, {
        gsi1pk: userPk(caller.userId),
        gsi1skPrefix: orgPkPrefix,
      }),
    });
    if (caller.email && profile?.email !== caller.email) {
      await recordUserProfile({ userId: caller.userId, email: caller.email });
    }
    return json(200, { organizations, cursor: encodeCursor(lastKey) ?? null });
  },
);

export const getOrganization = /* @__PURE__ */ httpRoute(
  { params: orgParams },
  async ({ caller, params }) => {
    const { membership, items } = await getMembershipWith(params.orgId, caller.userId, [orgMetaSk]);
    authorize(membership, 'org.view');

    const meta = items.get(orgMetaSk);
    if (!meta) throw new NotFoundError('Organization not found', 'organization_not_found');
    return json(200, { ...present(toOrganization(meta)), role: membership.role });
  },
);

export const renameOrganization = /* @__PURE__ */ httpRoute(
  { params: orgParams, body: nameBody },
  async ({ caller, params, body }) => {
    const { membership } = await getMembershipWith(params.orgId, caller.userId, []);
    authorize(membership, 'org.rename');

    const organization = await renameOrganizationItem(params.orgId, body.name);
    return json(200, { ...present(organization), role: membership.role });
  },
);

export const deleteOrganizationRoute = /* @__PURE__ */ httpRoute(
  { params: orgParams },
  async ({ caller, params }) => {
    const { membership } = await getMembershipWith(params.orgId, caller.userId, []);
    authorize(membership, 'org.delete');

    await deleteOrganization(params.orgId, caller.userId);
    return json(204);
  },
);
export { deleteOrganizationRoute as deleteOrganization };

function present(organization: ReturnType<typeof toOrganization>) {
  return {
    orgId: organization.orgId,
    name: organization.name,
    createdAt: organization.createdAt,
    ownerCount: organization.ownerCount,
  };
}
