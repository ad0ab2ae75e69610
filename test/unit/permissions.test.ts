import { describe, expect, it } from 'vitest';
import { routes } from '#catalogue/routes';
import { type Action, can, checkMemberChange, type Role, roles } from '#domain/permissions';

/**
 * DESIGN §2, transcribed independently of the implementation: which roles may do what.
 * Routes are checked through their catalogue action, so a route that changes action or a role
 * that gains a right fails here.
 */
const design: Record<string, Role[]> = {
  'GET /api/organizations/{orgId}': ['member', 'admin', 'owner'],
  'PATCH /api/organizations/{orgId}': ['owner'],
  'DELETE /api/organizations/{orgId}': ['owner'],
  'GET /api/organizations/{orgId}/members': ['member', 'admin', 'owner'],
  'POST /api/organizations/{orgId}/members': ['admin', 'owner'],
  'PATCH /api/organizations/{orgId}/members/{userId}': ['admin', 'owner'],
  'DELETE /api/organizations/{orgId}/members/{userId}': ['member', 'admin', 'owner'],
  'GET /api/organizations/{orgId}/llm-settings': ['member', 'admin', 'owner'],
  'PUT /api/organizations/{orgId}/llm-settings': ['admin', 'owner'],
  'GET /api/organizations/{orgId}/members/me/llm-settings': ['member', 'admin', 'owner'],
  'PUT /api/organizations/{orgId}/members/me/llm-settings': ['member', 'admin', 'owner'],
  'DELETE /api/organizations/{orgId}/members/me/llm-settings': ['member', 'admin', 'owner'],
  'GET /api/organizations/{orgId}/llm-settings/effective': ['member', 'admin', 'owner'],
  'GET /api/organizations/{orgId}/credits': ['member', 'admin', 'owner'],
  'POST /api/organizations/{orgId}/credits/checkout': ['admin', 'owner'],
  'GET /api/organizations/{orgId}/credits/transactions': ['admin', 'owner'],
  'GET /api/organizations/{orgId}/members/financial': ['admin', 'owner'],
  'GET /api/organizations/{orgId}/git-organizations': ['owner'],
  'GET /api/organizations/{orgId}/git-claims': ['member', 'admin', 'owner'],
  'POST /api/organizations/{orgId}/git-claims': ['owner'],
  'DELETE /api/organizations/{orgId}/git-claims/{claimId}': ['owner'],
};

const orgRoutes = routes.filter((route) => route.path.includes('{orgId}'));

describe('permission table', () => {
  it('covers every organization route of the catalogue', () => {
    const keys = orgRoutes.map((route) => `${route.method} ${route.path}`).sort();
    expect(keys).toEqual(Object.keys(design).sort());
  });

  for (const route of orgRoutes) {
    const key = `${route.method} ${route.path}`;
    for (const role of roles) {
      const expected = design[key]?.includes(role) ?? false;
      it(`${role} ${expected ? 'may' : 'may not'} call ${key}`, () => {
        expect(route.action).not.toBeNull();
        expect(can(role, route.action as Action)).toBe(expected);
      });
    }
  }
});

describe('member changes', () => {
  it('lets admins manage members and admins but never owners', () => {
    expect(checkMemberChange('admin', { kind: 'add', newRole: 'admin' })).toBeUndefined();
    expect(checkMemberChange('admin', { kind: 'add', newRole: 'owner' })?.kind).toBe('forbidden');
    expect(
      checkMemberChange('admin', {
        kind: 'changeRole',
        targetRole: 'owner',
        newRole: 'admin',
        ownerCount: 3,
      })?.kind,
    ).toBe('forbidden');
    expect(
      checkMemberChange('admin', {
        kind: 'remove',
        targetRole: 'owner',
        ownerCount: 3,
        self: false,
      })?.kind,
    ).toBe('forbidden');
  });

  it('keeps at least one owner', () => {
    const demote = { kind: 'changeRole', targetRole: 'owner', newRole: 'admin' } as const;
    expect(checkMemberChange('owner', { ...demote, ownerCount: 1 })?.kind).toBe('last_owner');
    expect(checkMemberChange('owner', { ...demote, ownerCount: 2 })).toBeUndefined();
    expect(
      checkMemberChange('owner', { kind: 'remove', targetRole: 'owner', ownerCount: 1, self: true })
        ?.kind,
    ).toBe('last_owner');
  });

  it('lets any member leave but not remove others', () => {
    expect(
      checkMemberChange('member', {
        kind: 'remove',
        targetRole: 'member',
        ownerCount: 1,
        self: true,
      }),
    ).toBeUndefined();
    expect(
      checkMemberChange('member', {
        kind: 'remove',
        targetRole: 'member',
        ownerCount: 1,
        self: false,
      })?.kind,
    ).toBe('forbidden');
  });
});
