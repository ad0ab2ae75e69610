import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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

/**
 * Our GitLab payload builders against GitLab's documented examples in ../shared/fixtures/gitlab
 * (outside the repository; present in this workspace and in CI). Without that folder each check
 * passes after printing one line saying it was not made.
 */
const fixtures =
  process.env.GITLAB_FIXTURES_DIR ??
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/fixtures/gitlab');
const events = captureEvents();
beforeEach(() => events.clear());
afterAll(() => events.eventBridge.restore());

// biome-ignore lint/suspicious/noExplicitAny: documented examples are untyped JSON.
function fixture(name: string): any | undefined {
  const file = path.join(fixtures, name);
  // Absent fixtures are reported once for the whole run (test/support/global-setup.ts).
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** What our handler publishes for a body (the event id aside). */
async function published(payload: unknown) {
  await invoke(
    handler,
    webhookEvent({
      path: '/webhooks/gitlab',
      body: JSON.stringify(payload),
      headers: gitlabHeaders('Note Hook', process.env.GITLAB_WEBHOOK_TOKEN ?? '', 'same-id'),
    }),
  );
  const details = events.entries().map((e) => [e.DetailType, JSON.parse(e.Detail ?? '')]);
  events.clear();
  return details;
}

/** The set of key paths of a JSON value (arrays by their first element). */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.length ? keyPaths(value[0], `${prefix}[]`) : [];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => [
    `${prefix}${key}`,
    ...keyPaths(child, `${prefix}${key}.`),
  ]);
}

describe('GitLab payload builders match the documented examples', () => {
  it('builds the system hook group_rename exactly as documented', () => {
    const documented = fixture('system-group-rename.json');
    if (!documented) return;
    expect(
      gitlabGroupRenamePayload({
        groupId: documented.group_id,
        name: documented.name,
        oldFullPath: documented.old_full_path,
        fullPath: documented.full_path,
        createdAt: documented.created_at,
        updatedAt: documented.updated_at,
      }),
    ).toEqual(documented);
  });

  it('builds the system hook group_destroy exactly as documented', () => {
    const documented = fixture('system-group-destroy.json');
    if (!documented) return;
    expect(
      gitlabGroupDestroyPayload({
        groupId: documented.group_id,
        name: documented.name,
        path: documented.path,
        createdAt: documented.created_at,
        updatedAt: documented.updated_at,
      }),
    ).toEqual(documented);
  });

  it.each([
    'member-add-to-group.json',
    'member-update-for-group.json',
    'member-remove-from-group.json',
  ])('builds the group Member Hook of %s exactly as documented', (name) => {
    const documented = fixture(name);
    if (!documented) return;
    expect(
      gitlabGroupMemberPayload({
        eventName: documented.event_name,
        groupId: documented.group_id,
        groupPath: documented.group_path,
        groupName: documented.group_name,
        user: {
          id: documented.user_id,
          username: documented.user_username,
          name: documented.user_name,
          email: documented.user_email,
        },
        access: documented.group_access,
        createdAt: documented.created_at,
        updatedAt: documented.updated_at,
        expiresAt: documented.expires_at,
      }),
    ).toEqual(documented);
  });

  it.each([
    ['note-issue.json', gitlabIssueNotePayload, 'issue'],
    ['note-merge-request.json', gitlabMergeRequestNotePayload, 'merge_request'],
  ] as const)(
    'builds %s with the documented fields, and the handler reads both alike',
    async (name, build, noteable) => {
      const documented = fixture(name);
      if (!documented) return;
      documented.object_attributes.note = '@openhands-agent please look';
      const built = build({
        projectPath: documented.project.path_with_namespace,
        projectId: documented.project.id,
        author: { id: documented.user.id, username: documented.user.username },
        note: documented.object_attributes.note,
        noteId: documented.object_attributes.id,
        issueIid: documented.issue?.iid,
        mergeRequestIid: documented.merge_request?.iid,
      });

      const documentedKeys = new Set(keyPaths(documented));
      const missing = keyPaths(built).filter((key) => !documentedKeys.has(key));
      expect(missing).toEqual([]);
      expect(Object.keys(built).sort()).toEqual(Object.keys(documented).sort());
      expect(Object.keys(built.object_attributes).sort()).toEqual(
        Object.keys(documented.object_attributes).sort(),
      );
      expect(built[noteable as keyof typeof built]).toBeDefined();

      const [fromDocs, fromBuilder] = [await published(documented), await published(built)];
      expect(fromDocs).toHaveLength(1);
      // The documented URL points at the example host; everything else must agree.
      const withoutUrl = (list: unknown[][]) =>
        list.map(([type, detail]) => [type, { ...(detail as object), commentUrl: undefined }]);
      expect(withoutUrl(fromBuilder)).toEqual(withoutUrl(fromDocs));
    },
  );
});
