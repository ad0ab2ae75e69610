import { QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { balanceUpdate } from '#data/credits';
import { memberLlmSk, memberSk, memberSkPrefix, orgMetaSk, orgPk } from '#data/keys';
import { type MemberRecord, toMemberRecord } from '#data/memberships';
import { newMembershipItem } from '#data/organizations';
import { tableName } from '#data/table';
import { failedConditionIndexes } from '#data/transactions';
import type { Role } from '#domain/permissions';
import { documentClient } from '#platform/aws-clients';
import { ConflictError } from '#platform/errors';

/**
 * Membership changes. Each is one transaction that also (a) re-checks the actor's role, so a
 * role revoked a moment ago cannot still act, and (b) keeps the organization's `ownerCount`
 * exact, refusing any change that would leave no owner even when two happen at once.
 */
export async function listMembersPage(
  orgId: string,
  page: { limit: number; startKey?: Record<string, unknown> },
): Promise<{ members: MemberRecord[]; lastKey?: Record<string, unknown> }> {
  const result = await documentClient.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :member)',
      ExpressionAttributeValues: { ':pk': orgPk(orgId), ':member': memberSkPrefix },
      Limit: page.limit,
      ExclusiveStartKey: page.startKey,
    }),
  );
  return { members: (result.Items ?? []).map(toMemberRecord), lastKey: result.LastEvaluatedKey };
}

function actorCheck(orgId: string, actor: { userId: string; role: Role }) {
  return {
    ConditionCheck: {
      TableName: tableName,
      Key: { pk: orgPk(orgId), sk: memberSk(actor.userId) },
      ConditionExpression: '#role = :actorRole',
      ExpressionAttributeNames: { '#role': 'role' },
      ExpressionAttributeValues: { ':actorRole': actor.role },
    },
  };
}

function ownerCountChange(orgId: string, delta: 1 | -1) {
  return {
    Update: {
      TableName: tableName,
      Key: { pk: orgPk(orgId), sk: orgMetaSk },
      UpdateExpression: 'ADD ownerCount :delta',
      ConditionExpression: delta < 0 ? 'ownerCount > :one' : 'attribute_exists(pk)',
      ExpressionAttributeValues: delta < 0 ? { ':delta': delta, ':one': 1 } : { ':delta': delta },
    },
  };
}

function explain(error: unknown, reasons: Record<number, Error>): never {
  const failed = failedConditionIndexes(error);
  if (failed) {
    for (const index of failed) {
      const mapped = reasons[index];
      if (mapped) throw mapped;
    }
  }
  throw error;
}

const actorChanged = () =>
  new ConflictError('Your role changed while this request ran; reload and retry', 'role_changed');
const lastOwner = () =>
  new ConflictError('An organization must keep at least one owner', 'last_owner');

export async function addMember(input: {
  orgId: string;
  actor: { userId: string; role: Role };
  user: { userId: string; email: string };
  role: Role;
}): Promise<MemberRecord> {
  const now = new Date().toISOString();
  const item = newMembershipItem({ orgId: input.orgId, ...input.user, role: input.role, now });
  const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> =
    [
      {
        Put: { TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' },
      },
      actorCheck(input.orgId, input.actor),
    ];
  if (input.role === 'owner') items.push(ownerCountChange(input.orgId, 1));
  try {
    await documentClient.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (error) {
    explain(error, {
      0: new ConflictError('That user is already a member', 'already_member'),
      1: actorChanged(),
    });
  }
  return toMemberRecord(item);
}

export async function changeMemberRole(input: {
  orgId: string;
  actor: { userId: string; role: Role };
  target: MemberRecord;
  newRole: Role;
}): Promise<void> {
  const { orgId, target, newRole } = input;
  const self = input.actor.userId === target.userId;
  const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> =
    [
      {
        Update: {
          TableName: tableName,
          Key: { pk: orgPk(orgId), sk: memberSk(target.userId) },
          UpdateExpression: 'SET #role = :newRole',
          ConditionExpression: '#role = :oldRole',
          ExpressionAttributeNames: { '#role': 'role' },
          ExpressionAttributeValues: { ':newRole': newRole, ':oldRole': target.role },
        },
      },
    ];
  // Changing your own role is checked by the update's own condition.
  if (!self) items.push(actorCheck(orgId, input.actor));
  if (target.role === 'owner' && newRole !== 'owner') items.push(ownerCountChange(orgId, -1));
  if (target.role !== 'owner' && newRole === 'owner') items.push(ownerCountChange(orgId, 1));
  try {
    await documentClient.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (error) {
    explain(error, {
      0: new ConflictError('The member’s role changed meanwhile; reload and retry', 'role_changed'),
      1: self ? lastOwner() : actorChanged(),
      2: lastOwner(),
    });
  }
}

export async function removeMember(input: {
  orgId: string;
  actor: { userId: string; role: Role };
  target: MemberRecord;
}): Promise<void> {
  const { orgId, target } = input;
  const self = input.actor.userId === target.userId;
  const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> =
    [
      {
        Delete: {
          TableName: tableName,
          Key: { pk: orgPk(orgId), sk: memberSk(target.userId) },
          // The spend read must still be current: it moves to the organization below.
          ConditionExpression: '#role = :role AND lifetimeSpentMicros = :spent',
          ExpressionAttributeNames: { '#role': 'role' },
          ExpressionAttributeValues: { ':role': target.role, ':spent': target.lifetimeSpentMicros },
        },
      },
      {
        Delete: { TableName: tableName, Key: { pk: orgPk(orgId), sk: memberLlmSk(target.userId) } },
      },
    ];
  if (!self) items.push(actorCheck(orgId, input.actor));
  if (target.role === 'owner') items.push(ownerCountChange(orgId, -1));
  // A departed member's spend stays in the organization's books as unattributed spend, so the
  // members' spend still adds up to the organization's.
  if (target.lifetimeSpentMicros > 0) {
    const deltas = { unattributedSpentMicros: target.lifetimeSpentMicros };
    items.push(balanceUpdate(orgId, deltas, new Date().toISOString()));
  }
  try {
    await documentClient.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (error) {
    const reasons: Record<number, Error> = {
      0: new ConflictError('The member changed meanwhile; reload and retry', 'member_changed'),
    };
    if (!self) reasons[2] = actorChanged();
    reasons[self ? 2 : 3] = lastOwner();
    explain(error, reasons);
  }
}
