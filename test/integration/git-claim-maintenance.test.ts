import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveRepositoryDirect } from '#api/resolve';
import { handler as maintainClaims } from '#consumers/git-claims';
import { putGitAccount } from '#data/git-accounts';
import { createClaim, getClaimByGitOrgId, listOrganizationClaims } from '#data/git-claims';
import type { GitProvider } from '#domain/git-claims';
import {
  githubHeaders,
  installationDeletedPayload,
  organizationRenamedPayload,
} from '#local/payloads/github';
import {
  gitlabGroupDestroyPayload,
  gitlabGroupRenamePayload,
  gitlabHeaders,
} from '#local/payloads/gitlab';
import { invoke, webhookEvent } from '#test/support/api-event';
import { handler as githubWebhook } from '#webhooks/github';
import { handler as gitlabWebhook } from '#webhooks/gitlab';
import {
  asEventBridgeEvent,
  captureEvents,
  eventBridgeEvent,
  freshId,
  seedOrganization,
  setBalance,
} from './git-fixtures.ts';

const events = captureEvents();
beforeEach(() => events.clear());
afterAll(() => events.eventBridge.restore());

const randomGitId = () => String(Math.floor(Math.random() * 1e12));

/** A claimed Git organization whose member `requester` can be routed. */
async function routedClaim(provider: GitProvider, login: string) {
  const ownerId = freshId('user');
  const memberId = freshId('user');
  const orgId = await seedOrganization([
    { userId: ownerId, role: 'owner' },
    { userId: memberId, role: 'member' },
  ]);
  await setBalance(orgId, 1_000_000);
  const gitOrgId = randomGitId();
  await createClaim({
    claimId: `clm_${gitOrgId.padStart(32, '0')}`,
    orgId,
    provider,
    gitOrgId,
    login,
    status: 'active',
    claimedBy: ownerId,
    claimedAt: new Date().toISOString(),
  });
  const requester = freshId('dev');
  await putGitAccount({
    userId: memberId,
    provider,
    gitUserId: '1',
    login: requester,
    encryptedToken: 'v1.unused',
    tokenHint: '',
    linkedAt: new Date().toISOString(),
  });
  const resolve = (repository: string) =>
    resolveRepositoryDirect({ provider, repository, requesterLogin: requester });
  return { orgId, gitOrgId, resolve };
}

/** Runs the captured events of a webhook delivery through the claims consumer. */
async function applyCaptured() {
  for (const entry of events.entries()) await maintainClaims(asEventBridgeEvent(entry));
  events.clear();
}

describe('keeping claims current', () => {
  it('routes the new GitHub login after a rename and stops routing the old one', async () => {
    const oldLogin = freshId('acme');
    const newLogin = freshId('Acme-Renamed');
    const { orgId, gitOrgId, resolve } = await routedClaim('github', oldLogin);
    const payload = JSON.stringify(
      organizationRenamedPayload({ id: Number(gitOrgId), from: oldLogin, to: newLogin }),
    );
    const headers = githubHeaders('organization', payload, process.env.GITHUB_WEBHOOK_SECRET ?? '');

    // Delivered twice: the second application changes nothing.
    for (let i = 0; i < 2; i++) {
      await invoke(
        githubWebhook,
        webhookEvent({ path: '/webhooks/github', body: payload, headers }),
      );
      await applyCaptured();
    }

    expect(await resolve(`${newLogin.toLowerCase()}/repo`)).toMatchObject({
      status: 'routed',
      orgId,
    });
    expect(await resolve(`${oldLogin}/repo`)).toEqual({ status: 'rejected', reason: 'unclaimed' });
    const { claims } = await listOrganizationClaims(orgId, { limit: 10, startKey: undefined });
    expect(claims.map((c) => c.login)).toEqual([newLogin]);
  });

  it('moves the claims of GitLab subgroups when their parent group is renamed', async () => {
    const top = freshId('top');
    const renamed = freshId('top2');
    const { orgId, resolve } = await routedClaim('gitlab', `${top}/sub`);
    const payload = JSON.stringify(
      gitlabGroupRenamePayload({
        groupId: Number(randomGitId()),
        name: 'Top',
        oldFullPath: top,
        fullPath: renamed,
      }),
    );
    const headers = gitlabHeaders('System Hook', process.env.GITLAB_WEBHOOK_TOKEN ?? '');

    await invoke(gitlabWebhook, webhookEvent({ path: '/webhooks/gitlab', body: payload, headers }));
    await applyCaptured();

    expect(await resolve(`${renamed}/sub/project`)).toMatchObject({ status: 'routed', orgId });
    expect(await resolve(`${top}/sub/project`)).toEqual({
      status: 'rejected',
      reason: 'unclaimed',
    });
  });

  it('suspends the claim when the GitHub app is uninstalled', async () => {
    const login = freshId('acme');
    const { orgId, gitOrgId, resolve } = await routedClaim('github', login);
    const payload = JSON.stringify(installationDeletedPayload({ id: Number(gitOrgId), login }));
    const headers = githubHeaders('installation', payload, process.env.GITHUB_WEBHOOK_SECRET ?? '');

    await invoke(githubWebhook, webhookEvent({ path: '/webhooks/github', body: payload, headers }));
    await applyCaptured();

    expect(await resolve(`${login}/repo`)).toEqual({
      status: 'rejected',
      reason: 'claim_suspended',
      orgId,
    });
    expect((await getClaimByGitOrgId('github', gitOrgId))?.suspendedReason).toBe('app_uninstalled');
  });

  it('suspends a destroyed GitLab group and its claimed subgroups', async () => {
    const top = freshId('doomed');
    const parent = await routedClaim('gitlab', top);
    const child = await routedClaim('gitlab', `${top}/sub`);
    const payload = JSON.stringify(
      gitlabGroupDestroyPayload({ groupId: Number(parent.gitOrgId), name: 'Doomed', path: top }),
    );
    const headers = gitlabHeaders('System Hook', process.env.GITLAB_WEBHOOK_TOKEN ?? '');

    await invoke(gitlabWebhook, webhookEvent({ path: '/webhooks/gitlab', body: payload, headers }));
    await applyCaptured();
    await maintainClaims(
      eventBridgeEvent('GitOrganizationDeleted', {
        eventId: 'again',
        provider: 'gitlab',
        gitOrgId: parent.gitOrgId,
      }),
    );

    expect(await parent.resolve(`${top}/app`)).toEqual({
      status: 'rejected',
      reason: 'claim_suspended',
      orgId: parent.orgId,
    });
    expect(await child.resolve(`${top}/sub/app`)).toEqual({
      status: 'rejected',
      reason: 'claim_suspended',
      orgId: child.orgId,
    });
  });

  it('suspends claimed subgroups of a destroyed GitLab group that had no claim of its own', async () => {
    const top = freshId('unclaimed-top');
    const child = await routedClaim('gitlab', `${top}/team`);
    const payload = JSON.stringify(
      gitlabGroupDestroyPayload({ groupId: Number(randomGitId()), name: 'Top', path: top }),
    );
    const headers = gitlabHeaders('System Hook', process.env.GITLAB_WEBHOOK_TOKEN ?? '');

    await invoke(gitlabWebhook, webhookEvent({ path: '/webhooks/gitlab', body: payload, headers }));
    await applyCaptured();

    expect(await child.resolve(`${top}/team/app`)).toEqual({
      status: 'rejected',
      reason: 'claim_suspended',
      orgId: child.orgId,
    });
  });

  it('accepts membership changes without touching the claim', async () => {
    const login = freshId('acme');
    const { gitOrgId } = await routedClaim('github', login);
    const before = await getClaimByGitOrgId('github', gitOrgId);

    await maintainClaims(
      eventBridgeEvent('GitMembershipChanged', {
        eventId: 'm',
        provider: 'github',
        gitOrgId,
        action: 'member_removed',
      }),
    );

    expect(await getClaimByGitOrgId('github', gitOrgId)).toEqual(before);
  });
});
