import { afterAll, describe, expect, it } from 'vitest';
import { resolveRepositoryDirect, resolveRepositoryRoute } from '#api/resolve';
import { putGitAccount } from '#data/git-accounts';
import { createClaim, suspendClaim } from '#data/git-claims';
import type { GitClaim, GitProvider } from '#domain/git-claims';
import { invoke, webhookEvent } from '#test/support/api-event';
import { captureEvents, freshId, seedOrganization, setBalance } from './git-fixtures.ts';

const events = captureEvents();
afterAll(() => events.eventBridge.restore());

/** An organization with an owner and a member, claiming `login`, with `balance` micros. */
async function claimedOrganization(provider: GitProvider, login: string, balance = 5_000_000) {
  const ownerId = freshId('user');
  const memberId = freshId('user');
  const orgId = await seedOrganization([
    { userId: ownerId, role: 'owner' },
    { userId: memberId, role: 'member' },
  ]);
  const claim: GitClaim = {
    claimId: `clm_${freshId('x').slice(2).padEnd(32, '0').slice(0, 32)}`,
    orgId,
    provider,
    gitOrgId: String(Math.floor(Math.random() * 1e12)),
    login,
    status: 'active',
    claimedBy: ownerId,
    claimedAt: new Date().toISOString(),
  };
  await createClaim(claim);
  if (balance !== 0) await setBalance(orgId, balance);
  return { orgId, ownerId, memberId, claim };
}

async function linkAccount(userId: string, provider: GitProvider, login: string, gitUserId = '1') {
  await putGitAccount({
    userId,
    provider,
    gitUserId,
    login,
    encryptedToken: 'v1.not.used.here',
    tokenHint: '',
    linkedAt: new Date().toISOString(),
  });
}

const uniqueLogin = (base: string) => `${base}-${freshId('x').slice(2, 10)}`;

describe('resolving a repository to an organization', () => {
  it('routes to the claiming organization when the requester is a linked member with credits', async () => {
    const gitOrg = uniqueLogin('Acme-Corp');
    const { orgId, memberId } = await claimedOrganization('github', gitOrg);
    const requester = uniqueLogin('Octo-Member');
    await linkAccount(memberId, 'github', requester, '1003');

    // Logins match case-insensitively, both the repository owner and the requester.
    const answer = await resolveRepositoryDirect({
      provider: 'github',
      repository: `${gitOrg.toUpperCase()}/hello-world`,
      requesterLogin: requester.toLowerCase(),
    });

    expect(answer).toEqual({ status: 'routed', orgId, userId: memberId });
  });

  it('rejects an unclaimed repository as unclaimed', async () => {
    const answer = await resolveRepositoryDirect({
      provider: 'github',
      repository: `${uniqueLogin('nobody')}/repo`,
      requesterLogin: 'someone',
    });
    expect(answer).toEqual({ status: 'rejected', reason: 'unclaimed' });
  });

  it('rejects a requester with no linked account, or linked but not a member, as not_member', async () => {
    const gitOrg = uniqueLogin('acme');
    const { orgId } = await claimedOrganization('github', gitOrg);
    const outsider = uniqueLogin('outsider');
    await linkAccount(freshId('user'), 'github', outsider);

    for (const requesterLogin of [uniqueLogin('unlinked'), outsider]) {
      const answer = await resolveRepositoryDirect({
        provider: 'github',
        repository: `${gitOrg}/repo`,
        requesterLogin,
      });
      expect(answer).toEqual({ status: 'rejected', reason: 'not_member', orgId });
    }
  });

  it('does not match a login whose Git user id differs from the requester id', async () => {
    const gitOrg = uniqueLogin('acme');
    const { orgId, memberId } = await claimedOrganization('github', gitOrg);
    const requester = uniqueLogin('renamed-away');
    await linkAccount(memberId, 'github', requester, '1003');

    const answer = await resolveRepositoryDirect({
      provider: 'github',
      repository: `${gitOrg}/repo`,
      requesterLogin: requester,
      requesterId: 9999,
    });
    expect(answer).toEqual({ status: 'rejected', reason: 'not_member', orgId });
  });

  it.each([
    ['no balance item', 0],
    ['an overdrawn balance', -1],
  ])('rejects with insufficient_credits when the organization has %s', async (_, balance) => {
    const gitOrg = uniqueLogin('poor');
    const { orgId, memberId } = await claimedOrganization('github', gitOrg, balance);
    const requester = uniqueLogin('member');
    await linkAccount(memberId, 'github', requester);

    const answer = await resolveRepositoryDirect({
      provider: 'github',
      repository: `${gitOrg}/repo`,
      requesterLogin: requester,
    });
    expect(answer).toEqual({ status: 'rejected', reason: 'insufficient_credits', orgId });
  });

  it('rejects with claim_suspended once the claim is suspended', async () => {
    const gitOrg = uniqueLogin('gone');
    const { orgId, memberId, claim } = await claimedOrganization('github', gitOrg);
    const requester = uniqueLogin('member');
    await linkAccount(memberId, 'github', requester);
    await suspendClaim(claim, 'git_org_deleted');

    const answer = await resolveRepositoryDirect({
      provider: 'github',
      repository: `${gitOrg}/repo`,
      requesterLogin: requester,
    });
    expect(answer).toEqual({ status: 'rejected', reason: 'claim_suspended', orgId });
  });

  it('routes a GitLab project by the nearest claimed ancestor group', async () => {
    const top = uniqueLogin('grp');
    const parent = await claimedOrganization('gitlab', top);
    const child = await claimedOrganization('gitlab', `${top}/Sub`);
    const requester = uniqueLogin('gl-member');
    await linkAccount(parent.memberId, 'gitlab', requester);
    await linkAccount(child.memberId, 'gitlab', requester);

    const deep = await resolveRepositoryDirect({
      provider: 'gitlab',
      repository: `${top}/sub/deeper/project`,
      requesterLogin: requester,
    });
    const sibling = await resolveRepositoryDirect({
      provider: 'gitlab',
      repository: `${top}/other/project`,
      requesterLogin: requester,
    });

    expect(deep).toEqual({ status: 'routed', orgId: child.orgId, userId: child.memberId });
    expect(sibling).toEqual({ status: 'routed', orgId: parent.orgId, userId: parent.memberId });
  });

  it('answers the same over POST /internal/resolve', async () => {
    const gitOrg = uniqueLogin('acme');
    const { orgId, memberId } = await claimedOrganization('github', gitOrg);
    const requester = uniqueLogin('member');
    await linkAccount(memberId, 'github', requester);
    const body = { provider: 'github', repository: `${gitOrg}/repo`, requesterLogin: requester };

    const response = await invoke(
      resolveRepositoryRoute,
      webhookEvent({ path: '/internal/resolve', body: JSON.stringify(body), headers: {} }),
    );

    expect(response).toEqual({
      statusCode: 200,
      body: { status: 'routed', orgId, userId: memberId },
    });
  });

  it('answers 400 to malformed JSON and 422 to a repository of the wrong shape', async () => {
    const malformed = await invoke(
      resolveRepositoryRoute,
      webhookEvent({ path: '/internal/resolve', body: '{"provider":', headers: {} }),
    );
    const wrongShape = await invoke(
      resolveRepositoryRoute,
      webhookEvent({
        path: '/internal/resolve',
        body: JSON.stringify({ provider: 'github', repository: 'a/b/c', requesterLogin: 'x' }),
        headers: {},
      }),
    );
    expect(malformed.statusCode).toBe(400);
    expect(wrongShape.statusCode).toBe(422);
    expect(wrongShape.body.error.details[0].path).toBe('body.repository');
  });

  it('answers 415 to a body declared as something other than JSON', async () => {
    const res = await invoke(
      resolveRepositoryRoute,
      webhookEvent({
        path: '/internal/resolve',
        body: JSON.stringify({ provider: 'github', repository: 'a/b', requesterLogin: 'x' }),
        headers: { 'content-type': 'text/plain' },
      }),
    );
    expect(res.statusCode).toBe(415);
  });
});
