import { afterAll, describe, expect, it } from 'vitest';
import { createClaim, getClaimByGitOrgId } from '#data/git-claims';
import { deleteOrganization } from '#data/organizations';
import { startGithubStandIn } from '#local/stand-ins/github';
import { apiEvent, invoke } from '#test/support/api-event';
import { captureEvents, freshId, seedOrganization, uniqueGithubSeed } from './git-fixtures.ts';

const gh = uniqueGithubSeed();
const github = await startGithubStandIn({ seed: gh.seed });
process.env.GITHUB_API_BASE = github.url;
const { linkGitAccount } = await import('#api/git-accounts');
const { claimGitOrganization } = await import('#api/git-claims');

const events = captureEvents();
afterAll(async () => {
  events.eventBridge.restore();
  await github.close();
});

async function ownerLinkedWith(token: string) {
  const userId = freshId('user');
  const orgId = await seedOrganization([{ userId, role: 'owner' }]);
  const linked = await invoke(
    linkGitAccount,
    apiEvent({
      method: 'PUT',
      path: '/api/users/me/git-accounts/github',
      params: { provider: 'github' },
      body: { token },
      userId,
    }),
  );
  expect(linked.statusCode).toBe(200);
  return { userId, orgId };
}

describe('concurrent claims', () => {
  it('gives exactly one 201 and one 409 when two organizations claim at the same moment', async () => {
    const first = await ownerLinkedWith(gh.token('ghp_demo_owner'));
    const second = await ownerLinkedWith(gh.token('ghp_demo_rival'));
    const claimBy = (caller: { userId: string; orgId: string }) =>
      invoke(
        claimGitOrganization,
        apiEvent({
          method: 'POST',
          path: `/api/organizations/${caller.orgId}/git-claims`,
          params: { orgId: caller.orgId },
          body: { provider: 'github', gitOrganization: gh.name('acme-corp') },
          userId: caller.userId,
        }),
      );

    const responses = await Promise.all([claimBy(first), claimBy(second)]);

    expect(responses.map((r) => r.statusCode).sort()).toEqual([201, 409]);
    const winner = responses.find((r) => r.statusCode === 201);
    const stored = await getClaimByGitOrgId('github', String(gh.id(5001)));
    expect(stored?.claimId).toBe(winner?.body.claimId);
    expect(events.details('GitOrganizationClaimed').map((d) => d.claimId)).toEqual([
      winner?.body.claimId,
    ]);
  });

  it('lets exactly one of eight simultaneous transactions claim a Git organization', async () => {
    const gitOrgId = String(Math.floor(Math.random() * 1e12));
    const contenders = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const userId = freshId('user');
        const orgId = await seedOrganization([{ userId, role: 'owner' }]);
        return {
          userId,
          orgId,
          claimId: `clm_${String(i).padStart(2, '0')}${gitOrgId.padStart(30, '0')}`,
        };
      }),
    );

    const outcomes = await Promise.allSettled(
      contenders.map((c) =>
        createClaim({
          claimId: c.claimId,
          orgId: c.orgId,
          provider: 'gitlab',
          gitOrgId,
          login: `race-${gitOrgId}`,
          status: 'active',
          claimedBy: c.userId,
          claimedAt: new Date().toISOString(),
        }),
      ),
    );

    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const conflicts = outcomes.filter(
      (o) => o.status === 'rejected' && (o.reason as { statusCode?: number }).statusCode === 409,
    );
    expect(won).toHaveLength(1);
    expect(conflicts).toHaveLength(7);
  });

  it('never lets a claim outlive an organization deleted at the same moment', async () => {
    for (let round = 0; round < 10; round++) {
      const userId = freshId('user');
      const orgId = await seedOrganization([{ userId, role: 'owner' }]);
      const gitOrgId = String(Math.floor(Math.random() * 1e12));

      const [claimed, deleted] = await Promise.allSettled([
        createClaim({
          claimId: `clm_${gitOrgId.padStart(32, '0')}`,
          orgId,
          provider: 'gitlab',
          gitOrgId,
          login: `race-delete-${gitOrgId}`,
          status: 'active',
          claimedBy: userId,
          claimedAt: new Date().toISOString(),
        }),
        deleteOrganization(orgId, userId),
      ]);

      // Exactly one wins: the claim (and the deletion is refused), or the deletion (and the
      // claim finds no organization); never a claim held by a deleted organization.
      expect([claimed.status, deleted.status].sort()).toEqual(['fulfilled', 'rejected']);
      const stored = await getClaimByGitOrgId('gitlab', gitOrgId);
      expect(stored === undefined).toBe(claimed.status === 'rejected');
    }
  });
});
