import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as routeResolverRequest } from '#consumers/resolver-routing';
import { putGitAccount } from '#data/git-accounts';
import { createClaim } from '#data/git-claims';
import {
  githubHeaders,
  installationDeletedPayload,
  issueCommentPayload,
  organizationDeletedPayload,
  organizationMemberAddedPayload,
  organizationRenamedPayload,
  pingPayload,
  pullRequestReviewCommentPayload,
} from '#local/payloads/github';
import { invoke, webhookEvent } from '#test/support/api-event';
import { handler } from '#webhooks/github';
import {
  asEventBridgeEvent,
  captureEvents,
  freshId,
  seedOrganization,
  setBalance,
} from './git-fixtures.ts';

const secret = process.env.GITHUB_WEBHOOK_SECRET ?? '';
const events = captureEvents();
beforeEach(() => events.clear());
afterAll(() => events.eventBridge.restore());

const owner = { login: 'acme-corp', id: 5001 };
const commenter = { login: 'octo-member', id: 1003 };

function deliver(
  name: string,
  payload: unknown,
  options: { base64?: boolean; delivery?: string; signWith?: string; body?: string } = {},
) {
  const body = options.body ?? JSON.stringify(payload);
  const headers = githubHeaders(name, body, options.signWith ?? secret, options.delivery);
  return invoke(
    handler,
    webhookEvent({ path: '/webhooks/github', body, headers, base64: options.base64 }),
  );
}

describe('GitHub webhook signatures', () => {
  const payload = issueCommentPayload({ owner, commenter, body: '@openhands-agent fix this' });

  it('rejects a wrong signature with 401 and publishes nothing', async () => {
    const response = await deliver('issue_comment', payload, { signWith: 'not-the-secret' });
    expect(response.statusCode).toBe(401);
    expect(events.eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('rejects a body changed after signing', async () => {
    const body = JSON.stringify(payload);
    const headers = githubHeaders('issue_comment', body, secret);
    const tampered = body.replace('fix this', 'fix that');
    const response = await invoke(
      handler,
      webhookEvent({ path: '/webhooks/github', body: tampered, headers }),
    );
    expect(response.statusCode).toBe(401);
    expect(events.entries()).toEqual([]);
  });

  it('rejects a delivery without a signature header', async () => {
    const headers = githubHeaders('issue_comment', '{}', secret);
    delete headers['x-hub-signature-256'];
    const response = await invoke(
      handler,
      webhookEvent({ path: '/webhooks/github', body: JSON.stringify(payload), headers }),
    );
    expect(response.statusCode).toBe(401);
  });

  it('verifies a base64-encoded body with non-ASCII text on its exact bytes', async () => {
    const unicode = issueCommentPayload({
      owner,
      commenter,
      body: 'Bitte prüfen 🚀 — @openhands-agent, merci «beaucoup»',
    });
    // GitHub escapes nothing: the signature covers the raw UTF-8 bytes.
    const response = await deliver('issue_comment', unicode, { base64: true });
    expect(response.statusCode).toBe(200);
    expect(events.details('ResolverRequested')[0].commentBody).toBe(
      'Bitte prüfen 🚀 — @openhands-agent, merci «beaucoup»',
    );
  });
});

describe('GitHub webhook events', () => {
  it('turns an issue comment mentioning the agent into ResolverRequested with a stable id', async () => {
    const payload = issueCommentPayload({
      owner,
      commenter,
      body: 'Could @OpenHands-Agent take a look?',
    });

    const first = await deliver('issue_comment', payload, { delivery: 'delivery-123' });
    const redelivered = await deliver('issue_comment', payload, { delivery: 'delivery-123' });

    expect(first).toEqual({
      statusCode: 200,
      body: { received: true, published: ['ResolverRequested'] },
    });
    expect(redelivered.statusCode).toBe(200);
    const expected = {
      eventId: 'github-delivery-123',
      provider: 'github',
      repository: 'acme-corp/hello-world',
      requesterLogin: 'octo-member',
      requesterId: '1003',
      issueNumber: 1,
      commentUrl: 'https://github.com/Codertocat/Hello-World/issues/1#issuecomment-492700400',
      commentBody: 'Could @OpenHands-Agent take a look?',
    };
    expect(events.details('ResolverRequested')).toEqual([expected, expected]);
    expect(events.entries()[0]?.Source).toBe('git');
  });

  it('turns a pull request review comment mentioning the agent into ResolverRequested', async () => {
    const payload = pullRequestReviewCommentPayload({
      owner,
      commenter,
      body: '@openhands-agent please address this',
    });
    await deliver('pull_request_review_comment', payload, { delivery: 'd-prc' });
    expect(events.details('ResolverRequested')).toMatchObject([
      { eventId: 'github-d-prc', repository: 'acme-corp/hello-world', issueNumber: 2 },
    ]);
  });

  it.each([
    ['no mention', '@openhands-agentic is a different handle', 'User'],
    ['an e-mail address', 'mail me at someone@openhands-agent', 'User'],
    ['a bot author', '@openhands-agent done', 'Bot'],
  ])('ignores a comment with %s', async (_, body, type) => {
    const payload = issueCommentPayload({ owner, commenter, body });
    payload.comment.user.type = type;
    const response = await deliver('issue_comment', payload);
    expect(response.body).toEqual({ received: true, published: [] });
    expect(events.entries()).toEqual([]);
  });

  it('acknowledges ping and publishes nothing', async () => {
    const response = await deliver('ping', pingPayload());
    expect(response).toEqual({ statusCode: 200, body: { received: true, published: [] } });
  });

  it('publishes renames, deletions, uninstalls and membership changes keyed by numeric id', async () => {
    await deliver(
      'organization',
      organizationRenamedPayload({ id: 5001, from: 'acme', to: 'Acme-Corp' }),
      {
        delivery: 'r1',
      },
    );
    await deliver('organization', organizationDeletedPayload(owner), { delivery: 'd1' });
    await deliver('installation', installationDeletedPayload(owner), { delivery: 'i1' });
    await deliver('organization', organizationMemberAddedPayload(owner, commenter), {
      delivery: 'm1',
    });

    expect(events.entries().map((e) => [e.DetailType, JSON.parse(e.Detail ?? '')])).toEqual([
      [
        'GitOrganizationRenamed',
        {
          eventId: 'github-r1',
          provider: 'github',
          gitOrgId: '5001',
          oldLogin: 'acme',
          newLogin: 'Acme-Corp',
        },
      ],
      [
        'GitOrganizationDeleted',
        { eventId: 'github-d1', provider: 'github', gitOrgId: '5001', login: 'acme-corp' },
      ],
      [
        'GitAppUninstalled',
        { eventId: 'github-i1', provider: 'github', gitOrgId: '5001', login: 'acme-corp' },
      ],
      [
        'GitMembershipChanged',
        {
          eventId: 'github-m1',
          provider: 'github',
          gitOrgId: '5001',
          login: 'acme-corp',
          memberLogin: 'octo-member',
          action: 'member_added',
        },
      ],
    ]);
  });

  it('answers 400 to a signed body that is not JSON', async () => {
    const response = await deliver('issue_comment', undefined, { body: 'not json' });
    expect(response.statusCode).toBe(400);
  });

  it('answers 503 when the bus keeps rejecting the event, so GitHub redelivers', async () => {
    events.eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'boom' }],
    });
    const payload = issueCommentPayload({ owner, commenter, body: '@openhands-agent go' });
    try {
      const response = await deliver('issue_comment', payload);
      expect(response.statusCode).toBe(503);
      expect(events.eventBridge.commandCalls(PutEventsCommand)).toHaveLength(3);
    } finally {
      events.acceptAll();
    }
  });
});

describe('resolver routing from a GitHub comment', () => {
  it('publishes ResolverRouted for the claiming organization', async () => {
    const gitOrgId = String(Math.floor(Math.random() * 1e12));
    const gitOrg = { login: `acme-${gitOrgId}`, id: Number(gitOrgId) };
    const ownerId = freshId('user');
    const memberId = freshId('user');
    const orgId = await seedOrganization([
      { userId: ownerId, role: 'owner' },
      { userId: memberId, role: 'member' },
    ]);
    await setBalance(orgId, 50_000_000);
    await createClaim({
      claimId: `clm_${gitOrgId.padStart(32, '0')}`,
      orgId,
      provider: 'github',
      gitOrgId,
      login: gitOrg.login,
      status: 'active',
      claimedBy: ownerId,
      claimedAt: new Date().toISOString(),
    });
    const requester = { login: `Member-${gitOrgId}`, id: 77 };
    await putGitAccount({
      userId: memberId,
      provider: 'github',
      gitUserId: '77',
      login: requester.login,
      encryptedToken: 'v1.unused',
      tokenHint: '',
      linkedAt: new Date().toISOString(),
    });

    const payload = issueCommentPayload({
      owner: gitOrg,
      commenter: requester,
      body: '@openhands-agent please fix',
    });
    await deliver('issue_comment', payload, { delivery: `route-${gitOrgId}` });
    const [requested] = events.entries();
    if (!requested) throw new Error('no ResolverRequested published');
    events.clear();

    await routeResolverRequest(asEventBridgeEvent(requested));

    expect(events.entries().map((e) => e.DetailType)).toEqual(['ResolverRouted']);
    expect(events.details('ResolverRouted')[0]).toEqual({
      eventId: `routed-github-route-${gitOrgId}`,
      requestEventId: `github-route-${gitOrgId}`,
      orgId,
      provider: 'github',
      repository: `${gitOrg.login}/hello-world`,
      requesterLogin: requester.login,
      userId: memberId,
    });
  });

  it('publishes ResolverRejected with the reason for an unclaimed repository', async () => {
    const payload = issueCommentPayload({
      owner: { login: freshId('unclaimed'), id: 1 },
      commenter,
      body: '@openhands-agent hi',
    });
    await deliver('issue_comment', payload, { delivery: 'unclaimed-1' });
    const [requested] = events.entries();
    if (!requested) throw new Error('no ResolverRequested published');
    events.clear();

    await routeResolverRequest(asEventBridgeEvent(requested));

    expect(events.details('ResolverRejected')).toMatchObject([
      { eventId: 'rejected-github-unclaimed-1', reason: 'unclaimed' },
    ]);
  });
});
