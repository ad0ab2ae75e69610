import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

/**
 * GitHub webhook payloads built from GitHub's own examples (`@octokit/webhooks-examples`), with
 * only the fields a scenario needs overridden, and the headers GitHub sends with them, signed
 * exactly as GitHub signs (HMAC-SHA256 of the body bytes). Used by the tests and the demo.
 */
interface WebhookDefinition {
  name: string;
  examples: Array<Record<string, unknown> & { action?: string }>;
}

const require = createRequire(import.meta.url);
const definitions = require('@octokit/webhooks-examples') as WebhookDefinition[];

// biome-ignore lint/suspicious/noExplicitAny: GitHub's examples are untyped JSON edited in place.
type Json = Record<string, any>;

/** A fresh copy of GitHub's example for `name` (and `action`, when the event has actions). */
export function githubExample(name: string, action?: string): Json {
  const example = definitions
    .find((definition) => definition.name === name)
    ?.examples.find((candidate) => action === undefined || candidate.action === action);
  if (!example) throw new Error(`@octokit/webhooks-examples has no ${name}.${action} example`);
  return structuredClone(example);
}

export interface GitAccountRef {
  login: string;
  id: number;
}

export interface CommentScenario {
  owner: GitAccountRef;
  repositoryName?: string;
  commenter: GitAccountRef;
  body: string;
}

/** `issue_comment` created on an issue of `owner/repositoryName`. */
export function issueCommentPayload(scenario: CommentScenario): Json {
  return withComment(githubExample('issue_comment', 'created'), scenario);
}

/** `pull_request_review_comment` created on a pull request of `owner/repositoryName`. */
export function pullRequestReviewCommentPayload(scenario: CommentScenario): Json {
  return withComment(githubExample('pull_request_review_comment', 'created'), scenario);
}

export function organizationRenamedPayload(org: { id: number; from: string; to: string }): Json {
  const payload = githubExample('organization', 'renamed');
  payload.changes = { login: { from: org.from } };
  payload.organization = { ...payload.organization, id: org.id, login: org.to };
  return payload;
}

/** GitHub publishes no `organization.deleted` example: the renamed one, as GitHub sends deletes. */
export function organizationDeletedPayload(org: GitAccountRef): Json {
  const payload = githubExample('organization', 'renamed');
  payload.action = 'deleted';
  delete payload.changes;
  payload.organization = { ...payload.organization, id: org.id, login: org.login };
  return payload;
}

export function organizationMemberAddedPayload(org: GitAccountRef, member: GitAccountRef): Json {
  const payload = githubExample('organization', 'member_added');
  payload.organization = { ...payload.organization, id: org.id, login: org.login };
  payload.membership.user = { ...payload.membership.user, id: member.id, login: member.login };
  return payload;
}

export function installationDeletedPayload(account: GitAccountRef): Json {
  const payload = githubExample('installation', 'deleted');
  payload.installation.account = {
    ...payload.installation.account,
    id: account.id,
    login: account.login,
    type: 'Organization',
  };
  payload.installation.target_type = 'Organization';
  return payload;
}

export function pingPayload(): Json {
  return githubExample('ping');
}

export function signGithubBody(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The headers GitHub sends with a delivery of `event`. */
export function githubHeaders(
  event: string,
  body: string | Buffer,
  secret: string,
  delivery: string = randomUUID(),
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/local',
    'x-github-event': event,
    'x-github-delivery': delivery,
    'x-github-hook-id': '1',
    'x-hub-signature-256': signGithubBody(body, secret),
  };
}

function withComment(payload: Json, scenario: CommentScenario): Json {
  const name = scenario.repositoryName ?? 'hello-world';
  const fullName = `${scenario.owner.login}/${name}`;
  payload.repository = {
    ...payload.repository,
    name,
    full_name: fullName,
    html_url: `https://github.com/${fullName}`,
    owner: {
      ...payload.repository.owner,
      login: scenario.owner.login,
      id: scenario.owner.id,
      type: 'Organization',
    },
  };
  payload.organization = { login: scenario.owner.login, id: scenario.owner.id };
  const user = {
    ...payload.comment.user,
    login: scenario.commenter.login,
    id: scenario.commenter.id,
  };
  payload.comment = { ...payload.comment, body: scenario.body, user };
  payload.sender = {
    ...payload.sender,
    login: scenario.commenter.login,
    id: scenario.commenter.id,
  };
  return payload;
}
