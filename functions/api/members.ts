import * as z from 'zod/mini';
import { decodeCursor, encodeCursor } from '#data/cursor';
import { memberSk, memberSkPrefix, orgMetaSk, orgPk } from '#data/keys';
import {
  addMember as addMemberItem,
  changeMemberRole as changeMemberRoleItem,
  listMembersPage,
  removeMember as removeMemberItem,
} from '#data/members';
import {
  getMembership,
  getMembershipWith,
  type MemberRecord,
  toMemberRecord,
} from '#data/memberships';
import { findUserById, findUsersByEmail } from '#data/users';
import { authorize, checkMemberChange, type Refusal, roles } from '#domain/permissions';
import { ConflictError, ForbiddenError, NotFoundError } from '#platform/errors';
import { httpRoute, json } from '#platform/http';
import { orgIdParam, orgParams, pageQuery } from '#platform/schemas';

const userIdParam = z.string().check(z.minLength(1), z.maxLength(128));
const memberParams = z.object({ orgId: orgIdParam, userId: userIdParam });
const role = z.enum(roles);
const roleBody = z.strictObject({ role });

export const listMembers = /* @__PURE__ */ httpRoute(
  { params: orgParams, query: pageQuery },
  async ({ caller, params, query }) => {
    const startKey = decodeCursor(query.cursor, {
      pk: orgPk(params.orgId),
      skPrefix: memberSkPrefix,
    });
    // Membership check and page read are independent: run them side by side.
    const [membership, page] = await Promise.all([
      getMembership(params.orgId, caller.userId),
      listMembersPage(params.orgId, { limit: query.limit, startKey }),
    ]);
    authorize(membership, 'org.view');

    return json(200, {
      members: page.members.map(presentMember),
      cursor: encodeCursor(page.lastKey) ?? null,
    });
  },
);

const addMemberBody = z
  .strictObject({
    userId: z.optional(userIdParam),
    email: z.optional(z.string().check(z.email(), z.maxLength(320))),
    role: z._default(role, 'member'),
  })
  .check(
    z.refine((body) => body.userId !== undefined || body.email !== undefined, {
      message: 'give userId or email',
    }),
  );

export const addMember = /* @__PURE__ */ httpRoute(
  { params: orgParams, body: addMemberBody },
  async ({ caller, params, body }) => {
    // The actor's membership and the user to add live in different partitions: read them side
    // by side, but answer from the actor check first so non-members learn nothing about users.
    const [actorRead, userRead] = await Promise.allSettled([
      getMembership(params.orgId, caller.userId),
      findUserToAdd(body.userId, body.email),
    ]);
    const actor = settled(actorRead);
    authorize(actor, 'members.manage');
    const refusal = checkMemberChange(actor.role, { kind: 'add', newRole: body.role });
    if (refusal) throw refusalError(refusal);
    const user = settled(userRead);

    const member = await addMemberItem({
      orgId: params.orgId,
      actor: { userId: actor.userId, role: actor.role },
      user,
      role: body.role,
    });
    return json(201, presentMember(member));
  },
);

/**
 * Finds the user to add: by id or by the verified email they signed in with. Only users who
 * have signed in are known, so an admin cannot attach an arbitrary email to an arbitrary id.
 */
async function findUserToAdd(userId: string | undefined, email: string | undefined) {
  if (userId) {
    const profile = await findUserById(userId);
    if (!profile) {
      throw new NotFoundError('No user with that id has signed in yet', 'user_not_found');
    }
    if (email && profile.email !== email.toLowerCase()) {
      throw new ConflictError('That userId and email belong to different users', 'user_mismatch');
    }
    return profile;
  }
  const matches = await findUsersByEmail(email ?? '');
  if (matches.length === 0) {
    throw new NotFoundError(
      'No user with that email has signed in yet; ask them to sign in first',
      'user_not_found',
    );
  }
  if (matches.length > 1) {
    throw new ConflictError('Several users share that email; add them by userId', 'ambiguous');
  }
  return matches[0] as NonNullable<(typeof matches)[0]>;
}

export const changeMemberRole = /* @__PURE__ */ httpRoute(
  { params: memberParams, body: roleBody },
  async ({ caller, params, body }) => {
    const { actor, target, ownerCount } = await readMemberChange(
      params.orgId,
      caller.userId,
      params.userId,
    );
    authorize(actor, 'members.manage');
    if (!target) throw new NotFoundError('Member not found', 'member_not_found');

    const refusal = checkMemberChange(actor.role, {
      kind: 'changeRole',
      targetRole: target.role,
      newRole: body.role,
      ownerCount,
    });
    if (refusal) throw refusalError(refusal);
    if (target.role === body.role) return json(200, presentMember(target));

    await changeMemberRoleItem({
      orgId: params.orgId,
      actor: { userId: actor.userId, role: actor.role },
      target,
      newRole: body.role,
    });
    return json(200, presentMember({ ...target, role: body.role }));
  },
);

export const removeMember = /* @__PURE__ */ httpRoute(
  { params: memberParams },
  async ({ caller, params }) => {
    const self = params.userId === caller.userId;
    const { actor, target, ownerCount } = await readMemberChange(
      params.orgId,
      caller.userId,
      params.userId,
    );
    authorize(actor, self ? 'org.leave' : 'members.manage');
    if (!target) throw new NotFoundError('Member not found', 'member_not_found');

    const refusal = checkMemberChange(actor.role, {
      kind: 'remove',
      targetRole: target.role,
      ownerCount,
      self,
    });
    if (refusal) throw refusalError(refusal);

    await removeMemberItem({
      orgId: params.orgId,
      actor: { userId: actor.userId, role: actor.role },
      target,
    });
    return json(204);
  },
);

/**
 * The actor, the target member and the organization's owner count in one BatchGetItem (same
 * partition). The owner count only gives the early, clear answer: the transaction re-checks it.
 */
async function readMemberChange(orgId: string, actorId: string, targetId: string) {
  const self = actorId === targetId;
  const { membership: actor, items } = await getMembershipWith(
    orgId,
    actorId,
    self ? [orgMetaSk] : [memberSk(targetId), orgMetaSk],
  );
  const targetItem = items.get(memberSk(targetId));
  return {
    actor,
    target: self ? actor : targetItem && toMemberRecord(targetItem),
    ownerCount: Number(items.get(orgMetaSk)?.ownerCount ?? 0),
  };
}

/** The value of a settled promise, or its error thrown. */
function settled<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

function refusalError(refusal: Refusal) {
  return refusal.kind === 'last_owner'
    ? new ConflictError(refusal.reason, 'last_owner')
    : new ForbiddenError(refusal.reason);
}

function presentMember(member: MemberRecord) {
  return {
    userId: member.userId,
    email: member.email,
    role: member.role,
    joinedAt: member.joinedAt,
  };
}
