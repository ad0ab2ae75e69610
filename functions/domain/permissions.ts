/**
 * Roles and permissions (DESIGN §2). `can` is the one function that decides what a role may do;
 * every route goes through `authorize`. Rules about *which* member an actor may change live in
 * `canManageMember` so the whole permission model is in this file.
 */
import { ForbiddenError, NotFoundError } from '#platform/errors';

export const roles = ['owner', 'admin', 'member'] as const;
export type Role = (typeof roles)[number];

export type Action =
  | 'org.view'
  | 'llm.self'
  | 'org.leave'
  | 'llm.org.edit'
  | 'credits.buy'
  | 'credits.ledger.read'
  | 'financial.read'
  | 'members.manage'
  | 'owners.manage'
  | 'org.rename'
  | 'org.delete'
  | 'claims.manage';

const allowed: Record<Action, readonly Role[]> = {
  'org.view': ['member', 'admin', 'owner'],
  'llm.self': ['member', 'admin', 'owner'],
  'org.leave': ['member', 'admin', 'owner'],
  'llm.org.edit': ['admin', 'owner'],
  'credits.buy': ['admin', 'owner'],
  'credits.ledger.read': ['admin', 'owner'],
  'financial.read': ['admin', 'owner'],
  'members.manage': ['admin', 'owner'],
  'owners.manage': ['owner'],
  'org.rename': ['owner'],
  'org.delete': ['owner'],
  'claims.manage': ['owner'],
};

export function can(role: Role, action: Action): boolean {
  return allowed[action].includes(role);
}

export interface Membership {
  orgId: string;
  userId: string;
  role: Role;
}

/**
 * A non-member gets 404 so the organization's existence is not revealed; a member without the
 * permission gets 403.
 */
export function authorize<M extends Membership>(
  membership: M | undefined,
  action: Action,
): asserts membership is M {
  if (!membership) throw new NotFoundError('Organization not found', 'organization_not_found');
  if (!can(membership.role, action)) {
    throw new ForbiddenError(`Your role (${membership.role}) does not allow ${action}`);
  }
}

export type MemberChange =
  | { kind: 'add'; newRole: Role }
  | { kind: 'changeRole'; targetRole: Role; newRole: Role; ownerCount: number }
  | { kind: 'remove'; targetRole: Role; ownerCount: number; self: boolean };

export interface Refusal {
  /** `forbidden`: the actor's role does not allow it; `last_owner`: it would leave no owner. */
  kind: 'forbidden' | 'last_owner';
  reason: string;
}

/**
 * Decides whether `actorRole` may make `change`. Returns undefined when allowed, or why not.
 * Admins never touch owners or grant ownership; the last owner can be neither removed nor
 * demoted (not even by themselves).
 */
export function checkMemberChange(actorRole: Role, change: MemberChange): Refusal | undefined {
  if (change.kind === 'remove' && change.self) {
    if (change.targetRole === 'owner' && change.ownerCount <= 1) {
      return lastOwner('The last owner cannot leave; make another member owner first');
    }
    return undefined;
  }

  if (!can(actorRole, 'members.manage')) {
    return forbidden(`Your role (${actorRole}) cannot manage members`);
  }

  const touchesOwner =
    change.kind === 'add'
      ? change.newRole === 'owner'
      : change.targetRole === 'owner' ||
        (change.kind === 'changeRole' && change.newRole === 'owner');
  if (touchesOwner && !can(actorRole, 'owners.manage')) {
    return forbidden('Only owners can grant, revoke or remove the owner role');
  }

  if (change.kind !== 'add' && change.targetRole === 'owner' && change.ownerCount <= 1) {
    const demoting = change.kind === 'remove' || change.newRole !== 'owner';
    if (demoting) return lastOwner('An organization must keep at least one owner');
  }
  return undefined;
}

const forbidden = (reason: string): Refusal => ({ kind: 'forbidden', reason });
const lastOwner = (reason: string): Refusal => ({ kind: 'last_owner', reason });
