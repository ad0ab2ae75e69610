import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RouteDefinition, routes } from '#catalogue/routes';
import { type StripeStandIn, startStripeStandIn } from '#local/stand-ins/stripe';
import { apiEvent, invoke } from '#test/support/api-event';
import { signedInUser } from '#test/support/users';

/**
 * DESIGN §2 through the real handlers: every organization route, called by an owner, an admin,
 * a member and a stranger, each against a fresh organization. A stranger must get 404
 * (existence not revealed), a role without the permission 403 `forbidden`, and a role with it
 * anything but those two. Transcribed from DESIGN, not from the code.
 */
type Caller = 'owner' | 'admin' | 'member' | 'stranger';

const allowed: Record<string, Caller[]> = {
  getOrganization: ['owner', 'admin', 'member'],
  renameOrganization: ['owner'],
  deleteOrganization: ['owner'],
  listMembers: ['owner', 'admin', 'member'],
  addMember: ['owner', 'admin'],
  changeMemberRole: ['owner', 'admin'],
  // Removing someone else; removing yourself (leaving) is open to every member.
  removeMember: ['owner', 'admin'],
  getOrgLlmSettings: ['owner', 'admin', 'member'],
  putOrgLlmSettings: ['owner', 'admin'],
  getMyLlmOverride: ['owner', 'admin', 'member'],
  putMyLlmOverride: ['owner', 'admin', 'member'],
  deleteMyLlmOverride: ['owner', 'admin', 'member'],
  getEffectiveLlmSettings: ['owner', 'admin', 'member'],
  getCreditBalance: ['owner', 'admin', 'member'],
  createCheckout: ['owner', 'admin'],
  listCreditTransactions: ['owner', 'admin'],
  getMembersFinancial: ['owner', 'admin'],
  listGitOrganizations: ['owner'],
  listGitClaims: ['owner', 'admin', 'member'],
  claimGitOrganization: ['owner'],
  unclaimGitOrganization: ['owner'],
};

/** A valid body for each route that takes one, so the answer is about permission only. */
function bodyFor(routeId: string, newcomerEmail: string): unknown {
  switch (routeId) {
    case 'renameOrganization':
      return { name: 'Renamed' };
    case 'addMember':
      return { email: newcomerEmail, role: 'member' };
    case 'changeMemberRole':
      return { role: 'admin' };
    case 'putOrgLlmSettings':
    case 'putMyLlmOverride':
      return { provider: 'openai', model: 'gpt-5' };
    case 'createCheckout':
      return { amountUsd: 10 };
    case 'claimGitOrganization':
      return { provider: 'github', gitOrganization: 'acme-corp' };
    default:
      return undefined;
  }
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const orgRoutes = routes.filter((route) => route.path.includes('{orgId}'));
let stripe: StripeStandIn;

beforeAll(async () => {
  stripe = await startStripeStandIn();
  process.env.STRIPE_API_BASE = stripe.url;
});

afterAll(async () => {
  await stripe.close();
});

async function organizationWithEveryRole() {
  const users = {
    owner: await signedInUser('owner'),
    admin: await signedInUser('admin'),
    member: await signedInUser('member'),
    target: await signedInUser('target'),
    stranger: await signedInUser('stranger'),
    newcomer: await signedInUser('newcomer'),
  };
  const { createOrganization } = await import('#api/organizations');
  const { addMember } = await import('#api/members');
  const created = await invoke(
    createOrganization,
    apiEvent({ method: 'POST', path: '', body: { name: 'Matrix' }, ...users.owner }),
  );
  const orgId = created.body.orgId as string;
  for (const [who, role] of [
    ['admin', 'admin'],
    ['member', 'member'],
    ['target', 'member'],
  ] as const) {
    const added = await invoke(
      addMember,
      apiEvent({
        method: 'POST',
        path: '',
        params: { orgId },
        body: { userId: users[who].userId, role },
        ...users.owner,
      }),
    );
    expect(added.statusCode).toBe(201);
  }
  return { orgId, users };
}

async function call(route: RouteDefinition, caller: Caller) {
  const { orgId, users } = await organizationWithEveryRole();
  const module = (await import(path.join(repoRoot, route.entry))) as Record<
    string,
    Parameters<typeof invoke>[0]
  >;
  const handler = module[route.handler];
  if (!handler) throw new Error(`${route.entry} exports no ${route.handler}`);
  const params: Record<string, string> = { orgId };
  if (route.path.includes('{userId}')) params.userId = users.target.userId;
  if (route.path.includes('{claimId}')) params.claimId = `clm_${'0'.repeat(32)}`;
  return invoke(
    handler,
    apiEvent({
      method: route.method,
      path: route.path,
      params,
      body: bodyFor(route.id, users.newcomer.email),
      ...users[caller],
    }),
  );
}

describe('permission matrix through the real handlers', () => {
  it('knows the expected cells of every organization route in the catalogue', () => {
    expect(orgRoutes.map((route) => route.id).sort()).toEqual(Object.keys(allowed).sort());
  });

  for (const route of orgRoutes) {
    for (const caller of ['owner', 'admin', 'member', 'stranger'] as const) {
      const may = allowed[route.id]?.includes(caller) ?? false;
      const expectation = caller === 'stranger' ? '404' : may ? 'through' : '403';
      it(`${route.id} by ${caller} → ${expectation}`, async () => {
        const response = await call(route, caller);
        const code = response.body?.error?.code;
        if (caller === 'stranger') {
          expect(response.statusCode).toBe(404);
          expect(code).toBe('organization_not_found');
        } else if (may) {
          expect(code).not.toBe('forbidden');
          expect(code).not.toBe('organization_not_found');
          expect(response.statusCode).toBeLessThan(500);
        } else {
          expect(response.statusCode).toBe(403);
          expect(code).toBe('forbidden');
        }
      });
    }
  }
});
