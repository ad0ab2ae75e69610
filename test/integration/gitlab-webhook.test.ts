import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  gitlabGroupDestroyPayload,
  gitlabGroupMemberPayload,
  gitlabGroupRenamePayload,
  gitlabHeaders,
  gitlabIssueNotePayload,
  gitlabMergeRequestNotePayload,
} from '#local/payloads/gitlab';
import { invoke, webhookEvent } from '#test/support/api-event';
import { handler } from '#webhooks/gitlab';
import { captureEvents } from './git-fixtures.ts';

const token = process.env.GITLAB_WEBHOOK_TOKEN ?? '';
const events = captureEvents();
beforeEach(() => events.clear());
afterAll(() => events.eventBridge.restore());

function deliver(event: string, payload: unknown, options: { token?: string; uuid?: string } = {}) {
  const headers = gitlabHeaders(event, options.token ?? token, options.uuid);
  return invoke(
    handler,
    webhookEvent({ path: '/webhooks/gitlab', body: JSON.stringify(payload), headers }),
  );
}

const author = { id: 2003, username: 'gl-member' };

describe('GitLab webhook token', () => {
  it.each([
    ['a wrong token of the same length', token.replace(/.$/, '#')],
    ['a shorter token', token.slice(0, 3)],
    ['no token', ''],
  ])('rejects %s with 401 and publishes nothing', async (_, sent) => {
    const payload = gitlabIssueNotePayload({
      projectPath: 'acme-group/app',
      author,
      note: '@openhands-agent fix',
    });
    const response = await deliver('Note Hook', payload, { token: sent });
    expect(response.statusCode).toBe(401);
    expect(events.entries()).toEqual([]);
  });
});

describe('GitLab webhook events', () => {
  it('turns a note mentioning the agent into ResolverRequested, keyed by the delivery uuid', async () => {
    const payload = gitlabIssueNotePayload({
      projectPath: 'acme-group/platform/backend/api',
      author,
      note: 'Hey @openhands-agent, can you fix this?',
      issueIid: 42,
    });

    const response = await deliver('Note Hook', payload, { uuid: 'uuid-1' });

    expect(response).toEqual({
      statusCode: 200,
      body: { received: true, published: ['ResolverRequested'] },
    });
    expect(events.details('ResolverRequested')).toEqual([
      {
        eventId: 'gitlab-uuid-1',
        provider: 'gitlab',
        repository: 'acme-group/platform/backend/api',
        requesterLogin: 'gl-member',
        requesterId: '2003',
        issueNumber: 42,
        commentUrl: 'http://example.com/acme-group/platform/backend/api/issues/17#note_1241',
        commentBody: 'Hey @openhands-agent, can you fix this?',
      },
    ]);
  });

  it('uses the merge request iid for notes on merge requests', async () => {
    const payload = gitlabMergeRequestNotePayload({
      projectPath: 'acme-group/app',
      author,
      note: '@openhands-agent review',
      mergeRequestIid: 9,
    });
    await deliver('Note Hook', payload);
    expect(events.details('ResolverRequested')[0].issueNumber).toBe(9);
  });

  it('ignores notes without a mention, edited notes and system notes', async () => {
    const plain = gitlabIssueNotePayload({ projectPath: 'a/b', author, note: 'LGTM' });
    const edited = gitlabIssueNotePayload({ projectPath: 'a/b', author, note: '@openhands-agent' });
    edited.object_attributes.action = 'update';
    const system = gitlabIssueNotePayload({ projectPath: 'a/b', author, note: '@openhands-agent' });
    system.object_attributes.system = true;

    for (const payload of [plain, edited, system]) {
      expect((await deliver('Note Hook', payload)).body.published).toEqual([]);
    }
    expect(events.entries()).toEqual([]);
  });

  it('turns system hooks group_rename and group_destroy into Renamed and Deleted', async () => {
    await deliver(
      'System Hook',
      gitlabGroupRenamePayload({
        groupId: 64,
        name: 'Better Name',
        oldFullPath: 'parent-group/old-name',
        fullPath: 'parent-group/better-name',
      }),
      { uuid: 'r' },
    );
    await deliver(
      'System Hook',
      gitlabGroupDestroyPayload({ groupId: 78, name: 'StoreCloud', path: 'storecloud' }),
      { uuid: 'd' },
    );

    expect(events.entries().map((e) => [e.DetailType, JSON.parse(e.Detail ?? '')])).toEqual([
      [
        'GitOrganizationRenamed',
        {
          eventId: 'gitlab-r',
          provider: 'gitlab',
          gitOrgId: '64',
          oldLogin: 'parent-group/old-name',
          newLogin: 'parent-group/better-name',
        },
      ],
      [
        'GitOrganizationDeleted',
        { eventId: 'gitlab-d', provider: 'gitlab', gitOrgId: '78', login: 'storecloud' },
      ],
    ]);
  });

  it.each(['user_add_to_group', 'user_update_for_group', 'user_remove_from_group'] as const)(
    'accepts the member event %s as GitMembershipChanged',
    async (eventName) => {
      const payload = gitlabGroupMemberPayload({
        eventName,
        groupId: 100,
        groupPath: 'webhook-test',
        user: { id: 64, username: 'test_user' },
        access: 'Guest',
      });
      const response = await deliver('Member Hook', payload, { uuid: eventName });
      expect(response.statusCode).toBe(200);
      expect(events.details('GitMembershipChanged')).toEqual([
        {
          eventId: `gitlab-${eventName}`,
          provider: 'gitlab',
          gitOrgId: '100',
          login: 'webhook-test',
          memberLogin: 'test_user',
          action: eventName,
        },
      ]);
    },
  );

  it('derives a stable event id from the body when GitLab sends no delivery id', async () => {
    const payload = gitlabIssueNotePayload({
      projectPath: 'a/b',
      author,
      note: '@openhands-agent',
    });
    const headers = gitlabHeaders('Note Hook', token);
    delete headers['x-gitlab-event-uuid'];
    const body = JSON.stringify(payload);
    for (let i = 0; i < 2; i++) {
      await invoke(handler, webhookEvent({ path: '/webhooks/gitlab', body, headers }));
    }
    const [first, second] = events.details('ResolverRequested');
    expect(first.eventId).toMatch(/^gitlab-[0-9a-f]{64}$/);
    expect(second.eventId).toBe(first.eventId);
  });

  it('answers 400 to malformed JSON with a valid token', async () => {
    const response = await invoke(
      handler,
      webhookEvent({
        path: '/webhooks/gitlab',
        body: '{"object_kind":',
        headers: gitlabHeaders('Note Hook', token),
      }),
    );
    expect(response.statusCode).toBe(400);
  });
});
