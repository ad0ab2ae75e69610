import { randomBytes } from 'node:crypto';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { EventBridgeEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { balanceSk, memberSk, orgMetaSk, orgPk, userPk } from '#data/keys';
import { tableName } from '#data/table';
import type { Role } from '#domain/permissions';
import { type GithubSeed, githubSeed } from '#local/stand-ins/github';
import { type GitlabSeed, gitlabSeed } from '#local/stand-ins/gitlab';
import { documentClient } from '#platform/aws-clients';

/**
 * Set-up for the Git tests: organizations and members written straight to DynamoDB Local (the
 * members API's item shapes), PutEvents captured, and stand-in seeds made unique per test file
 * (the Git organization ids are global in the table, so two files must not share them).
 */
export const freshId = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;

export async function seedOrganization(
  members: Array<{ userId: string; role: Role }>,
): Promise<string> {
  const orgId = freshId('org');
  const now = new Date().toISOString();
  await put({
    pk: orgPk(orgId),
    sk: orgMetaSk,
    entity: 'Organization',
    orgId,
    name: 'Test organization',
    ownerCount: members.filter((m) => m.role === 'owner').length,
    createdAt: now,
  });
  for (const member of members) {
    await put({
      pk: orgPk(orgId),
      sk: memberSk(member.userId),
      entity: 'Membership',
      orgId,
      userId: member.userId,
      role: member.role,
      email: `${member.userId}@example.com`,
      joinedAt: now,
      lifetimeSpentMicros: 0,
      spentByMonth: {},
      gsi1pk: userPk(member.userId),
      gsi1sk: orgPk(orgId),
    });
  }
  return orgId;
}

/** The balance item as the credit ledger writes it. */
export async function setBalance(orgId: string, balanceMicros: number): Promise<void> {
  await put({ pk: orgPk(orgId), sk: balanceSk, entity: 'CreditBalance', orgId, balanceMicros });
}

async function put(item: Record<string, unknown>): Promise<void> {
  await documentClient.send(new PutCommand({ TableName: tableName, Item: item }));
}

/** Captures PutEvents; every entry is accepted unless a test says otherwise. */
export function captureEvents() {
  const eventBridge = mockClient(EventBridgeClient);
  const acceptAll = () =>
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries?: PutEventsRequestEntry[] }) => ({
      FailedEntryCount: 0,
      Entries: (input.Entries ?? []).map((_, i) => ({ EventId: `evt-${i}` })),
    }));
  acceptAll();
  const entries = () =>
    eventBridge.commandCalls(PutEventsCommand).flatMap((call) => call.args[0].input.Entries ?? []);
  return {
    eventBridge,
    entries,
    details: (detailType: string) =>
      entries()
        .filter((entry) => entry.DetailType === detailType)
        .map((entry) => JSON.parse(entry.Detail ?? '{}')),
    clear: () => eventBridge.resetHistory(),
    acceptAll,
  };
}

/** What a consumer receives from EventBridge for a captured entry. */
export function asEventBridgeEvent(
  entry: PutEventsRequestEntry,
): EventBridgeEvent<string, unknown> {
  return {
    version: '0',
    id: freshId('evb'),
    'detail-type': entry.DetailType ?? '',
    source: entry.Source ?? '',
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: JSON.parse(entry.Detail ?? '{}'),
  };
}

export function eventBridgeEvent(detailType: string, detail: unknown) {
  return asEventBridgeEvent({
    DetailType: detailType,
    Source: 'git',
    Detail: JSON.stringify(detail),
  });
}

/**
 * The stand-ins' default seed with every id, login, path and token made unique: the same
 * memberships and access levels, so tests can name the roles of the default seed.
 */
export function uniqueGithubSeed(): {
  seed: GithubSeed;
  name: (login: string) => string;
  id: (id: number) => number;
  token: (token: string) => string;
} {
  const suffix = randomBytes(4).toString('hex');
  const offset = Number.parseInt(suffix, 16) * 10_000;
  const name = (login: string) => `${login}-${suffix}`;
  const id = (value: number) => value + offset;
  const token = (value: string) => `${value}_${suffix}`;
  const seed: GithubSeed = {
    orgs: githubSeed.orgs.map((org) => ({ id: id(org.id), login: name(org.login) })),
    tokens: Object.fromEntries(
      Object.entries(githubSeed.tokens).map(([value, user]) => [
        token(value),
        {
          id: id(user.id),
          login: name(user.login),
          memberships: Object.fromEntries(
            Object.entries(user.memberships).map(([login, m]) => [name(login), m]),
          ),
        },
      ]),
    ),
  };
  return { seed, name, id, token };
}

export function uniqueGitlabSeed(): {
  seed: GitlabSeed;
  path: (path: string) => string;
  id: (id: number) => number;
  token: (token: string) => string;
} {
  const suffix = randomBytes(4).toString('hex');
  const offset = Number.parseInt(suffix, 16) * 10_000;
  const id = (value: number) => value + offset;
  const token = (value: string) => `${value}-${suffix}`;
  // Only top-level groups are renamed; subgroup paths follow from their parents.
  const path = (full: string) => {
    const [top, ...rest] = full.split('/');
    return [`${top}-${suffix}`, ...rest].join('/');
  };
  const seed: GitlabSeed = {
    groups: gitlabSeed.groups.map((group) => ({
      ...group,
      id: id(group.id),
      path: group.parentId === null ? `${group.path}-${suffix}` : group.path,
      parentId: group.parentId === null ? null : id(group.parentId),
    })),
    tokens: Object.fromEntries(
      Object.entries(gitlabSeed.tokens).map(([value, user]) => [
        token(value),
        {
          id: id(user.id),
          username: `${user.username}-${suffix}`,
          memberships: Object.fromEntries(
            Object.entries(user.memberships).map(([groupId, level]) => [
              id(Number(groupId)),
              level,
            ]),
          ),
        },
      ]),
    ),
  };
  return { seed, path, id, token };
}
