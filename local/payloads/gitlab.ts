/**
 * GitLab webhook bodies written to the shapes GitLab documents (project/group webhooks and
 * instance system hooks), with the headers GitLab sends. Tests compare them with GitLab's own
 * examples in `../shared/fixtures/gitlab/` when that folder exists.
 */
export interface GitlabUserRef {
  id: number;
  username: string;
}

export interface GitlabNoteScenario {
  /** `group/sub/project`. */
  projectPath: string;
  projectId?: number;
  author: GitlabUserRef;
  note: string;
  noteId?: number;
}

const createdAt = '2015-05-17 17:06:40 UTC';

function projectOf(path: string, id: number) {
  const web = `http://example.com/${path}`;
  const name = path.split('/').at(-1) ?? path;
  return {
    id,
    name,
    description: '',
    web_url: web,
    avatar_url: null,
    git_ssh_url: `git@example.com:${path}.git`,
    git_http_url: `${web}.git`,
    namespace: path.split('/').slice(0, -1).join('/'),
    visibility_level: 10,
    path_with_namespace: path,
    default_branch: 'main',
    homepage: web,
    url: `${web}.git`,
    ssh_url: `git@example.com:${path}.git`,
    http_url: `${web}.git`,
  };
}

function userOf(author: GitlabUserRef) {
  return {
    id: author.id,
    name: author.username,
    username: author.username,
    avatar_url: 'http://www.gravatar.com/avatar/0?s=40&d=identicon',
    email: `${author.username}@example.com`,
  };
}

function noteBase(scenario: GitlabNoteScenario, noteableType: 'Issue' | 'MergeRequest') {
  const projectId = scenario.projectId ?? 5;
  const noteId = scenario.noteId ?? 1241;
  const web = `http://example.com/${scenario.projectPath}`;
  const anchor = noteableType === 'Issue' ? 'issues/17' : 'merge_requests/1';
  return {
    object_kind: 'note',
    event_type: 'note',
    user: userOf(scenario.author),
    project_id: projectId,
    project: projectOf(scenario.projectPath, projectId),
    repository: {
      name: projectOf(scenario.projectPath, projectId).name,
      url: `git@example.com:${scenario.projectPath}.git`,
      description: '',
      homepage: web,
    },
    object_attributes: {
      id: noteId,
      note: scenario.note,
      noteable_type: noteableType,
      author_id: scenario.author.id,
      created_at: createdAt,
      updated_at: createdAt,
      project_id: projectId,
      attachment: null,
      line_code: null,
      commit_id: '',
      noteable_id: 92,
      system: false,
      st_diff: null,
      action: 'create',
      url: `${web}/${anchor}#note_${noteId}`,
    },
  };
}

/** A `Note Hook` for a comment on issue `iid`. */
export function gitlabIssueNotePayload(scenario: GitlabNoteScenario & { issueIid?: number }) {
  const projectId = scenario.projectId ?? 5;
  return {
    ...noteBase(scenario, 'Issue'),
    issue: {
      id: 92,
      title: 'test',
      assignee_ids: [],
      assignee_id: null,
      author_id: scenario.author.id,
      project_id: projectId,
      created_at: createdAt,
      updated_at: createdAt,
      position: 0,
      branch_name: null,
      description: 'test',
      milestone_id: null,
      state: 'opened',
      iid: scenario.issueIid ?? 17,
      labels: [],
    },
  };
}

/** A `Note Hook` for a comment on merge request `iid`. */
export function gitlabMergeRequestNotePayload(
  scenario: GitlabNoteScenario & { mergeRequestIid?: number },
) {
  const projectId = scenario.projectId ?? 5;
  // GitLab's merge request `source`/`target` describe the project without its id.
  const { id: _id, ...project } = projectOf(scenario.projectPath, projectId);
  return {
    ...noteBase(scenario, 'MergeRequest'),
    merge_request: {
      id: 7,
      target_branch: 'main',
      source_branch: 'feature',
      source_project_id: projectId,
      author_id: scenario.author.id,
      assignee_id: null,
      title: 'Feature',
      created_at: createdAt,
      updated_at: createdAt,
      milestone_id: null,
      state: 'opened',
      merge_status: 'can_be_merged',
      target_project_id: projectId,
      iid: scenario.mergeRequestIid ?? 1,
      description: '',
      position: 0,
      source: project,
      target: project,
      work_in_progress: false,
      draft: false,
      assignee: null,
      detailed_merge_status: 'mergeable',
    },
  };
}

/** System hook `group_rename` (also sent for subgroups: paths are full paths). */
export function gitlabGroupRenamePayload(group: {
  groupId: number;
  name: string;
  oldFullPath: string;
  fullPath: string;
  createdAt?: string;
  updatedAt?: string;
}) {
  return {
    event_name: 'group_rename',
    created_at: group.createdAt ?? '2017-10-30T15:09:00Z',
    updated_at: group.updatedAt ?? '2017-11-01T10:23:52Z',
    name: group.name,
    path: group.fullPath.split('/').at(-1),
    full_path: group.fullPath,
    group_id: group.groupId,
    old_path: group.oldFullPath.split('/').at(-1),
    old_full_path: group.oldFullPath,
  };
}

/** System hook `group_destroy`. */
export function gitlabGroupDestroyPayload(group: {
  groupId: number;
  name: string;
  path: string;
  createdAt?: string;
  updatedAt?: string;
}) {
  return {
    created_at: group.createdAt ?? '2012-07-21T07:30:54Z',
    updated_at: group.updatedAt ?? '2012-07-21T07:38:22Z',
    event_name: 'group_destroy',
    name: group.name,
    path: group.path,
    group_id: group.groupId,
  };
}

export type GitlabMemberEventName =
  | 'user_add_to_group'
  | 'user_update_for_group'
  | 'user_remove_from_group';

/** Group webhook `Member Hook` (the group-webhook form, with `expires_at` and `group_plan`). */
export function gitlabGroupMemberPayload(member: {
  eventName: GitlabMemberEventName;
  groupId: number;
  groupPath: string;
  groupName?: string;
  user: GitlabUserRef & { name?: string; email?: string };
  access: 'Guest' | 'Reporter' | 'Developer' | 'Maintainer' | 'Owner';
  createdAt?: string;
  updatedAt?: string;
  expiresAt?: string | null;
}) {
  return {
    created_at: member.createdAt ?? '2020-12-11T04:57:22Z',
    updated_at: member.updatedAt ?? '2020-12-11T04:57:22Z',
    group_name: member.groupName ?? member.groupPath,
    group_path: member.groupPath,
    group_id: member.groupId,
    user_username: member.user.username,
    user_name: member.user.name ?? member.user.username,
    user_email: member.user.email ?? `${member.user.username}@example.com`,
    user_id: member.user.id,
    group_access: member.access,
    group_plan: null,
    expires_at: member.expiresAt ?? null,
    event_name: member.eventName,
  };
}

/** The headers GitLab sends; `event` is e.g. `Note Hook`, `System Hook`, `Member Hook`. */
export function gitlabHeaders(
  event: string,
  token: string,
  uuid: string = crypto.randomUUID(),
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'GitLab/17.0.0',
    'x-gitlab-event': event,
    'x-gitlab-token': token,
    'x-gitlab-event-uuid': uuid,
    'x-gitlab-instance': 'https://gitlab.example',
  };
}
