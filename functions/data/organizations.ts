import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetItems } from '#data/batch-get';
import { gsi1, memberSk, orgMetaSk, orgPk, userPk } from '#data/keys';
import { tableName } from '#data/table';
import { transactOrThrow } from '#data/transact';
import { toUserProfile, type UserProfile, userProfileItem, userProfileKey } from '#data/users';
import type { Role } from '#domain/permissions';
import { documentClient } from '#platform/aws-clients';
import { ConflictError, NotFoundError } from '#platform/errors';

export interface Organization {
  orgId: string;
  name: string;
  ownerCount: number;
  createdAt: string;
  createdBy: string;
}

export function toOrganization(item: Record<string, unknown>): Organization {
  return {
    orgId: String(item.orgId),
    name: String(item.name),
    ownerCount: Number(item.ownerCount ?? 0),
    createdAt: String(item.createdAt ?? ''),
    createdBy: String(item.createdBy ?? ''),
  };
}

export function newMembershipItem(input: {
  orgId: string;
  userId: string;
  email: string;
  role: Role;
  now: string;
}): Record<string, unknown> {
  return {
    pk: orgPk(input.orgId),
    sk: memberSk(input.userId),
    entity: 'Membership',
    orgId: input.orgId,
    userId: input.userId,
    email: input.email,
    emailLower: input.email.toLowerCase(),
    role: input.role,
    joinedAt: input.now,
    lifetimeSpentMicros: 0,
    spentByMonth: {},
    gsi1pk: userPk(input.userId),
    gsi1sk: orgPk(input.orgId),
  };
}

/**
 * Creates the organization and its first owner in one transaction, which also records the
 * owner's user profile (so they can be found by email from then on).
 */
export async function createOrganizationWithOwner(input: {
  orgId: string;
  name: string;
  owner: { userId: string; email: string };
}): Promise<Organization> {
  const now = new Date().toISOString();
  const organization: Organization = {
    orgId: input.orgId,
    name: input.name,
    ownerCount: 1,
    createdAt: now,
    createdBy: input.owner.userId,
  };
  await transactOrThrow(
    [
      {
        Put: {
          TableName: tableName,
          Item: {
            pk: orgPk(input.orgId),
            sk: orgMetaSk,
            entity: 'Organization',
            ...organization,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      {
        Put: {
          TableName: tableName,
          Item: newMembershipItem({ orgId: input.orgId, ...input.owner, role: 'owner', now }),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      { Put: { TableName: tableName, Item: userProfileItem(input.owner, now) } },
    ],
    {},
  );
  return organization;
}

export interface MyOrganization {
  orgId: string;
  name: string;
  role: Role;
  joinedAt: string;
}

/**
 * The organizations a user belongs to (GSI on memberships), with names from their META items,
 * and the user's profile, read in the same BatchGetItem as the names so the caller can tell
 * whether it needs writing without another round trip.
 */
export async function listOrganizationsOfUser(
  userId: string,
  page: { limit: number; startKey?: Record<string, unknown> },
): Promise<{
  organizations: MyOrganization[];
  lastKey?: Record<string, unknown>;
  profile: UserProfile | undefined;
}> {
  const result = await documentClient.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: gsi1,
      KeyConditionExpression: 'gsi1pk = :pk AND begins_with(gsi1sk, :org)',
      ExpressionAttributeValues: { ':pk': userPk(userId), ':org': 'ORG#' },
      Limit: page.limit,
      ExclusiveStartKey: page.startKey,
    }),
  );
  const memberships = result.Items ?? [];
  const items = await batchGetItems(
    [
      userProfileKey(userId),
      ...memberships.map((m) => ({ pk: orgPk(String(m.orgId)), sk: orgMetaSk })),
    ],
    { expression: 'pk, sk, orgId, userId, email, #name', names: { '#name': 'name' } },
  );
  const names = new Map<string, string>();
  let profile: UserProfile | undefined;
  for (const item of items) {
    if (item.sk === orgMetaSk) names.set(String(item.orgId), String(item.name));
    else profile = toUserProfile(item);
  }
  // A membership whose organization META is gone belongs to a deletion still being swept.
  const organizations = memberships
    .filter((m) => names.has(String(m.orgId)))
    .map((m) => ({
      orgId: String(m.orgId),
      name: names.get(String(m.orgId)) ?? '',
      role: m.role as Role,
      joinedAt: String(m.joinedAt ?? ''),
    }));
  return { organizations, lastKey: result.LastEvaluatedKey, profile };
}

export async function renameOrganization(orgId: string, name: string): Promise<Organization> {
  try {
    const { Attributes } = await documentClient.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: orgPk(orgId), sk: orgMetaSk },
        UpdateExpression: 'SET #name = :name, updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#name': 'name' },
        ExpressionAttributeValues: { ':name': name, ':now': new Date().toISOString() },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toOrganization(Attributes ?? {});
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      throw new NotFoundError('Organization not found', 'organization_not_found');
    }
    throw error;
  }
}

/**
 * Deletes an organization. Organizations with Git claims must unclaim first (claims route
 * other people's work): the META item keeps a `claimCount` that every claim and unclaim
 * changes in its own transaction, and the deletion requires it to be zero, so a claim and a
 * deletion racing each other cannot both succeed. The META item and the caller's owner
 * membership go in one transaction (from then on the organization no longer exists for
 * anyone); the rest of the partition is swept after.
 */
export async function deleteOrganization(orgId: string, ownerUserId: string): Promise<void> {
  await transactOrThrow(
    [
      {
        Delete: {
          TableName: tableName,
          Key: { pk: orgPk(orgId), sk: orgMetaSk },
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(claimCount) OR claimCount = :none)',
          ExpressionAttributeValues: { ':none': 0 },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      {
        Delete: {
          TableName: tableName,
          Key: { pk: orgPk(orgId), sk: memberSk(ownerUserId) },
          ConditionExpression: '#role = :owner',
          ExpressionAttributeNames: { '#role': 'role' },
          ExpressionAttributeValues: { ':owner': 'owner' },
        },
      },
    ],
    {
      0: (error) =>
        error.CancellationReasons?.[0]?.Item
          ? new ConflictError(
              'Unclaim this organization’s Git organizations before deleting it',
              'organization_has_git_claims',
            )
          : new NotFoundError('Organization not found', 'organization_not_found'),
      1: () => new ConflictError('You are no longer an owner', 'role_changed'),
    },
  );
  await sweepOrganizationPartition(orgId);
}

async function sweepOrganizationPartition(orgId: string): Promise<void> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documentClient.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': orgPk(orgId) },
        ProjectionExpression: 'pk, sk',
        ExclusiveStartKey: startKey,
      }),
    );
    const keys = (page.Items ?? []).map((item) => ({ pk: item.pk, sk: item.sk }));
    for (let i = 0; i < keys.length; i += 25) {
      let requests = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
      for (let attempt = 0; requests.length > 0 && attempt < 6; attempt++) {
        const result = await documentClient.send(
          new BatchWriteCommand({ RequestItems: { [tableName]: requests } }),
        );
        requests = (result.UnprocessedItems?.[tableName] ?? []) as typeof requests;
        if (requests.length) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
      }
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}
