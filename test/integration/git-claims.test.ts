import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClaim, deleteClaim, getClaimByGitOrgId } from '#data/git-claims';
import { gitAccountSk, gitAliasPk, gitAliasSk, userPk } from '#data/keys';
import { tableName } from '#data/table';
import { startGithubStandIn } from '#local/stand-ins/github';
import { startGitlabStandIn } from '#local/stand-ins/gitlab';
import { documentClient } from '#platform/aws-clients';
import { apiEvent, invoke } from '#test/support/api-event';
import {
  captureEvents,
  freshId,
  seedOrganization,
  uniqueGithubSeed,
  uniqueGitlabSeed,
} from './git-fixtures.ts';

// The provider clients read their base URLs at load, so the stand-ins start first.
const gh = uniqueGithubSeed();
const gl = uniqueGitlabSeed();
const github = await startGithubStandIn({ seed: gh.seed });
const gitlab = await startGitlabStandIn({ seed: gl.seed });
process.env.GITHUB_API_BASE = github.url;
process.env.GITLAB_API_BASE = gitlab.url;
const { linkGitAccount, unlinkGitAccount } = await import('#api/git-accounts');
const { claimGitOrganization, listGitClaims, listGitOrganizations, unclaimGitOrganization } =
  await import('#api/git-claims');

const events = captureEvents();
beforeEach(() => events.clear());
afterAll(async () => {
  events.eventBridge.restore();
  await github.close();
  await gitlab.close();
});

function link(userId: string, provider: 'github' | 'gitlab', token: string) {
  return invoke(
    linkGitAccount,
    apiEvent({
      method: 'PUT',
      path: `/api/users/me/git-accounts/${provider}`,
      params: { provider },
      body: { token },
      userId,
    }),
  );
}

/** Claims made by a test, unclaimed after it so every test starts with the Git orgs free. */
const made: Array<{ userId: string; orgId: string; claimId: string }> = [];

async function claim(userId: string, orgId: string, provider: string, gitOrganization: string) {
  const response = await invoke(
    claimGitOrganization,
    apiEvent({
      method: 'POST',
      path: `/api/organizations/${orgId}/git-claims`,
      params: { orgId },
      body: { provider, gitOrganization },
      userId,
    }),
  );
  if (response.statusCode === 201) made.push({ userId, orgId, claimId: response.body.claimId });
  return response;
}

function unclaim(userId: string, orgId: string, claimId: string) {
  return invoke(
    unclaimGitOrganization,
    apiEvent({
      method: 'DELETE',
      path: `/api/organizations/${orgId}/git-claims/${claimId}`,
      params: { orgId, claimId },
      userId,
    }),
  );
}

afterEach(async () => {
  for (const { userId, orgId, claimId } of made.splice(0)) await unclaim(userId, orgId, claimId);
});

function listOrgs(userId: string, orgId: string) {
  return invoke(
    listGitOrganizations,
    apiEvent({
      method: 'GET',
      path: `/api/organizations/${orgId}/git-organizations`,
      params: { orgId },
      userId,
    }),
  );
}

/** A second token for the seed's owner, so revoking it leaves the shared token working. */
function revocableOwnerToken(): string {
  const token = freshId('ghp_revocable');
  const owner = gh.seed.tokens[gh.token('ghp_demo_owner')];
  if (!owner) throw new Error('seed has no owner');
  gh.seed.tokens[token] = owner;
  return token;
}

async function ownerWithOrg(links: Array<['github' | 'gitlab', string]>) {
  const userId = freshId('user');
  const orgId = await seedOrganization([{ userId, role: 'owner' }]);
  for (const [provider, token] of links)
    expect((await link(userId, provider, token)).statusCode).toBe(200);
  return { userId, orgId };
}

describe('linking a Git account', () => {
  it('verifies the token with GitHub and stores it encrypted, never returning it', async () => {
    const userId = freshId('user');
    const token = gh.token('ghp_demo_owner');

    const response = await link(userId, 'github', token);

    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual({
      provider: 'github',
      login: gh.name('octo-owner'),
      gitUserId: String(gh.id(1001)),
      tokenSet: true,
      tokenHint: token.slice(-4),
      linkedAt: expect.any(String),
    });
    expect(JSON.stringify(response.body)).not.toContain(token);
    const { Item } = await documentClient.send(
      new GetCommand({
        TableName: tableName,
        Key: { pk: userPk(userId), sk: gitAccountSk('github') },
      }),
    );
    expect(Item?.encryptedToken).toMatch(/^v1\./);
    expect(JSON.stringify(Item)).not.toContain(token);
    expect(Item?.gsi1pk).toBe(`GITLOGIN#github#${gh.name('octo-owner').toLowerCase()}`);
  });

  it('verifies a GitLab token and records the GitLab user id and username', async () => {
    const response = await link(freshId('user'), 'gitlab', gl.token('glpat-demo-owner'));
    expect(response.statusCode).toBe(200);
    expect(response.body.login).toBe(gl.seed.tokens[gl.token('glpat-demo-owner')]?.username);
    expect(response.body.gitUserId).toBe(String(gl.id(2001)));
  });

  it('refuses a token the provider rejects with a 400 naming the provider', async () => {
    const response = await link(freshId('user'), 'github', 'ghp_not_a_real_token');
    expect(response.statusCode).toBe(400);
    expect(response.body.error.code).toBe('git_token_rejected');
    expect(response.body.error.message).toContain('GitHub rejected this token');
  });

  it('unlinks an account, and says 404 when none is linked', async () => {
    const userId = freshId('user');
    await link(userId, 'gitlab', gl.token('glpat-demo-member'));
    const unlink = () =>
      invoke(
        unlinkGitAccount,
        apiEvent({
          method: 'DELETE',
          path: '/api/users/me/git-accounts/gitlab',
          params: { provider: 'gitlab' },
          userId,
        }),
      );
    expect((await unlink()).statusCode).toBe(204);
    expect((await unlink()).statusCode).toBe(404);
  });
});

describe('listing Git organizations', () => {
  it('lists GitHub orgs where the user is an active admin and GitLab groups with Owner access', async () => {
    const { userId, orgId } = await ownerWithOrg([
      ['github', gh.token('ghp_demo_owner')],
      ['gitlab', gl.token('glpat-demo-owner')],
    ]);

    const response = await listOrgs(userId, orgId);

    expect(response.statusCode).toBe(200);
    const names = response.body.gitOrganizations.map(
      (o: { provider: string; login: string }) => `${o.provider}:${o.login}`,
    );
    expect(names).toEqual([
      `github:${gh.name('acme-corp')}`,
      `gitlab:${gl.path('acme-group')}`,
      `gitlab:${gl.path('acme-group/platform')}`,
      `gitlab:${gl.path('acme-group/platform/backend')}`,
      `gitlab:${gl.path('dev-group/owned-sub')}`,
    ]);
    expect(
      response.body.gitOrganizations.every(
        (o: { claimStatus: string }) => o.claimStatus === 'unclaimed',
      ),
    ).toBe(true);
    expect(response.body.accounts).toEqual([
      { provider: 'github', login: gh.name('octo-owner'), status: 'ok' },
      {
        provider: 'gitlab',
        login: gl.seed.tokens[gl.token('glpat-demo-owner')]?.username,
        status: 'ok',
      },
    ]);
  });

  it('marks each Git organization claimed here or elsewhere without naming the other organization', async () => {
    const seedOwner = await ownerWithOrg([['gitlab', gl.token('glpat-demo-owner')]]);
    const rival = await ownerWithOrg([['gitlab', gl.token('glpat-demo-rival')]]);
    expect(
      (await claim(rival.userId, rival.orgId, 'gitlab', gl.path('acme-group'))).statusCode,
    ).toBe(201);
    const mine = await claim(
      seedOwner.userId,
      seedOwner.orgId,
      'gitlab',
      gl.path('dev-group/owned-sub'),
    );
    expect(mine.statusCode).toBe(201);

    const response = await listOrgs(seedOwner.userId, seedOwner.orgId);

    const byLogin = Object.fromEntries(
      response.body.gitOrganizations.map((o: { login: string }) => [o.login, o]),
    );
    expect(byLogin[gl.path('acme-group')]).toEqual({
      provider: 'gitlab',
      gitOrgId: String(gl.id(7001)),
      login: gl.path('acme-group'),
      name: 'Acme Group',
      claimStatus: 'claimed_elsewhere',
    });
    expect(byLogin[gl.path('dev-group/owned-sub')].claimStatus).toBe('claimed_here');
    expect(byLogin[gl.path('dev-group/owned-sub')].claimId).toBe(mine.body.claimId);
    expect(JSON.stringify(response.body)).not.toContain(rival.orgId);
  });

  it('reports a token the provider now rejects per account instead of failing the list', async () => {
    const token = revocableOwnerToken();
    const { userId, orgId } = await ownerWithOrg([
      ['github', token],
      ['gitlab', gl.token('glpat-demo-owner')],
    ]);
    github.revokeToken(token);

    const response = await listOrgs(userId, orgId);

    expect(response.statusCode).toBe(200);
    expect(response.body.accounts[0]).toEqual({
      provider: 'github',
      login: gh.name('octo-owner'),
      status: 'token_rejected',
      message:
        'GitHub rejected the linked token; link your GitHub account again with ' +
        'PUT /api/users/me/git-accounts/github',
    });
    expect(
      response.body.gitOrganizations.map((o: { provider: string }) => o.provider),
    ).not.toContain('github');
  });

  it('is for owners only: an admin gets 403 and a non-member 404', async () => {
    const ownerId = freshId('user');
    const adminId = freshId('user');
    const orgId = await seedOrganization([
      { userId: ownerId, role: 'owner' },
      { userId: adminId, role: 'admin' },
    ]);
    expect((await listOrgs(adminId, orgId)).statusCode).toBe(403);
    expect((await listOrgs(freshId('user'), orgId)).statusCode).toBe(404);
  });
});

describe('claiming a Git organization', () => {
  it('claims a GitHub organization where the owner is an active admin, keyed by its id', async () => {
    const { userId, orgId } = await ownerWithOrg([['github', gh.token('ghp_demo_owner')]]);

    // The login is matched case-insensitively by GitHub; the claim records GitHub's spelling.
    const response = await claim(userId, orgId, 'github', gh.name('ACME-corp'));

    expect(response.statusCode).toBe(201);
    expect(response.body).toEqual({
      claimId: expect.stringMatching(/^clm_[a-f0-9]{32}$/),
      provider: 'github',
      gitOrgId: String(gh.id(5001)),
      login: gh.name('acme-corp'),
      status: 'active',
      claimedBy: userId,
      claimedAt: expect.any(String),
    });
    expect(events.details('GitOrganizationClaimed')).toEqual([
      {
        eventId: `claimed-${response.body.claimId}`,
        orgId,
        claimId: response.body.claimId,
        provider: 'github',
        gitOrgId: String(gh.id(5001)),
        login: gh.name('acme-corp'),
        userId,
      },
    ]);

    // Freed at once by unclaiming: another organization can claim it right after.
    expect((await unclaim(userId, orgId, response.body.claimId)).statusCode).toBe(204);
    expect(events.details('GitOrganizationUnclaimed').map((d) => d.claimId)).toEqual([
      response.body.claimId,
    ]);
    const rival = await ownerWithOrg([['github', gh.token('ghp_demo_rival')]]);
    expect(
      (await claim(rival.userId, rival.orgId, 'github', gh.name('acme-corp'))).statusCode,
    ).toBe(201);
  });

  it.each([
    ['a plain member', 'widgets-inc', 'You are a member of the GitHub organization, not an admin'],
    [
      'a pending invitation',
      'pending-co',
      'Your membership of the GitHub organization is pending, not active; accept it first',
    ],
    [
      'an unknown organization',
      'no-such-org',
      'The GitHub organization does not exist or you are not a member of it',
    ],
  ])('refuses %s on GitHub with 403 and the reason', async (_, login, message) => {
    const { userId, orgId } = await ownerWithOrg([['github', gh.token('ghp_demo_owner')]]);

    const response = await claim(userId, orgId, 'github', gh.name(login));

    expect(response.statusCode).toBe(403);
    expect(response.body.error).toEqual({ code: 'not_git_organization_admin', message });
    expect(events.entries()).toEqual([]);
  });

  it.each([
    ['a direct Owner', 'glpat-demo-owner', 'acme-group', 201],
    ['an inherited Owner of a subgroup', 'glpat-demo-owner', 'acme-group/platform/backend', 201],
    [
      'an Owner of a subgroup under a Developer parent',
      'glpat-demo-owner',
      'dev-group/owned-sub',
      201,
    ],
    ['a Maintainer (40)', 'glpat-demo-owner', 'maintained-group', 403],
    ['a Developer (30)', 'glpat-demo-owner', 'dev-group', 403],
    ['a non-member', 'glpat-demo-member', 'maintained-group', 403],
  ])('answers %s on GitLab with %s', async (_, token, path, status) => {
    const { userId, orgId } = await ownerWithOrg([['gitlab', gl.token(token)]]);
    const response = await claim(userId, orgId, 'gitlab', gl.path(path));
    expect(response.statusCode).toBe(status);
    if (status === 201) expect(response.body.login).toBe(gl.path(path));
    else expect(response.body.error.code).toBe('not_git_organization_admin');
  });

  it('accepts a GitLab group by numeric id and records its full path', async () => {
    const { userId, orgId } = await ownerWithOrg([['gitlab', gl.token('glpat-demo-owner')]]);
    const response = await claim(userId, orgId, 'gitlab', String(gl.id(7002)));
    expect(response.statusCode).toBe(201);
    expect(response.body.login).toBe(gl.path('acme-group/platform'));
  });

  it('gives 409 to a second organization claiming the same Git organization', async () => {
    const first = await ownerWithOrg([['github', gh.token('ghp_demo_owner')]]);
    const second = await ownerWithOrg([['github', gh.token('ghp_demo_rival')]]);
    const claimed = await claim(first.userId, first.orgId, 'github', gh.name('acme-corp'));
    expect(claimed.statusCode).toBe(201);
    events.clear();

    const response = await claim(second.userId, second.orgId, 'github', gh.name('acme-corp'));

    expect(response.statusCode).toBe(409);
    expect(response.body.error).toEqual({
      code: 'git_organization_already_claimed',
      message: 'That Git organization is already claimed by another organization',
    });
    expect(events.entries()).toEqual([]);
    const again = await claim(first.userId, first.orgId, 'github', gh.name('acme-corp'));
    expect(again.body.error.message).toBe(
      'This organization has already claimed that Git organization',
    );
  });

  it('refuses with 403 and says to re-link when the provider now rejects the linked token', async () => {
    const token = revocableOwnerToken();
    const { userId, orgId } = await ownerWithOrg([['github', token]]);
    github.revokeToken(token);

    const response = await claim(userId, orgId, 'github', gh.name('acme-corp'));

    expect(response.statusCode).toBe(403);
    expect(response.body.error.code).toBe('git_token_rejected');
    expect(response.body.error.message).toContain('link your GitHub account again');
  });

  it('refuses with 403 when no account of that provider is linked', async () => {
    const { userId, orgId } = await ownerWithOrg([]);
    const response = await claim(userId, orgId, 'gitlab', gl.path('acme-group'));
    expect(response.statusCode).toBe(403);
    expect(response.body.error.code).toBe('git_account_not_linked');
  });

  it('lets only owners claim and unclaim; members may list the claims', async () => {
    const owner = await ownerWithOrg([['gitlab', gl.token('glpat-demo-owner')]]);
    const adminId = freshId('user');
    const memberId = freshId('user');
    const orgId = await seedOrganization([
      { userId: owner.userId, role: 'owner' },
      { userId: adminId, role: 'admin' },
      { userId: memberId, role: 'member' },
    ]);
    await link(adminId, 'gitlab', gl.token('glpat-demo-owner'));
    expect((await claim(adminId, orgId, 'gitlab', gl.path('acme-group'))).statusCode).toBe(403);

    const claimed = await claim(owner.userId, orgId, 'gitlab', gl.path('acme-group/platform'));
    expect(claimed.statusCode).toBe(201);
    const listed = await invoke(
      listGitClaims,
      apiEvent({
        method: 'GET',
        path: `/api/organizations/${orgId}/git-claims`,
        params: { orgId },
        userId: memberId,
      }),
    );
    expect(listed.statusCode).toBe(200);
    expect(listed.body).toEqual({ claims: [claimed.body], cursor: null });
    expect((await unclaim(adminId, orgId, claimed.body.claimId)).statusCode).toBe(403);
  });
});

describe('unclaiming (data layer)', () => {
  async function claimed(login: string, gitOrgId: string) {
    const userId = freshId('user');
    const orgId = await seedOrganization([{ userId, role: 'owner' }]);
    const claim = {
      claimId: `clm_${randomUUID().replaceAll('-', '')}`,
      orgId,
      provider: 'github' as const,
      gitOrgId,
      login,
      status: 'active' as const,
      claimedBy: userId,
      claimedAt: new Date().toISOString(),
    };
    await createClaim(claim);
    return { claim, userId };
  }

  async function aliasOf(login: string) {
    const { Item } = await documentClient.send(
      new GetCommand({
        TableName: tableName,
        Key: { pk: gitAliasPk('github', login), sk: gitAliasSk },
        ConsistentRead: true,
      }),
    );
    return Item?.gitOrgId;
  }

  it('deletes the claim together with its alias', async () => {
    const login = freshId('Login');
    const gitOrgId = freshId('9');
    const { claim, userId } = await claimed(login, gitOrgId);
    expect(await aliasOf(login)).toBe(gitOrgId);

    await deleteClaim(claim, userId);
    expect(await aliasOf(login)).toBeUndefined();
    expect(await getClaimByGitOrgId('github', gitOrgId)).toBeUndefined();
  });

  it('keeps an alias that another Git organization took over, and still frees the claim', async () => {
    const login = freshId('Login');
    const gitOrgId = freshId('9');
    const { claim, userId } = await claimed(login, gitOrgId);
    // The login now belongs to another Git organization (renamed away, then re-used).
    await documentClient.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: gitAliasPk('github', login),
          sk: gitAliasSk,
          entity: 'GitAlias',
          aliasKey: login.toLowerCase(),
          gitOrgId: 'someone-else',
        },
      }),
    );

    await deleteClaim(claim, userId);
    expect(await aliasOf(login)).toBe('someone-else');
    expect(await getClaimByGitOrgId('github', gitOrgId)).toBeUndefined();
  });
});
