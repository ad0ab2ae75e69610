import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { balanceUpdate } from '#data/credits';
import { memberLlmSk, memberSk, memberSkPrefix, orgMetaSk, orgPk } from '#data/keys';
import { type MemberRecord, memberRoleCheck, toMemberRecord } from '#data/memberships';
import { newMembershipItem } from '#data/organizations';
import { tableName } from '#data/table';
import { type TransactItem, transactOrThrow } from '#data/transact';
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

const actorChanged = () =>
  new ConflictError('Your role changed while this request ran; reload and retry', 'role_changed');
const lastOwner = () =>
  new ConflictError('An organization must keep at least one owner', 'last_owner');

/**
 * Transaction items with, for each conditional item, the error its failed condition means.
 */
class MemberTransaction {
  readonly items: TransactItem[] = [];
  readonly reasons: Record<number, () => Error> = {};

  add(item: TransactItem, whenConditionFails?: () => Error): this {
    if (whenConditionFails) this.reasons[this.items.length] = whenConditionFails;
    this.items.push(item);
    return this;
  }

  run(): Promise<void> {
    return transactOrThrow(this.items, this.reasons);
  }
}

export async function addMember(input: {
  orgId: string;
  actor: { userId: string; role: Role };
  user: { userId: string; email: string };
  role: Role;
}): Promise<MemberRecord> {
  const now = new Date().toISOString();
  const item = newMembershipItem({ orgId: input.orgId, ...input.user, role: input.role, now });
  const transaction = new MemberTransaction()
    .add(
      {
        Put: { TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' },
      },
      () => new ConflictError('That user is already a member', 'already_member'),
    )
    .add(memberRoleCheck(input.orgId, input.actor.userId, input.actor.role), actorChanged);
  if (input.role === 'owner') transaction.add(ownerCountChange(input.orgId, 1));
  await transaction.run();
  return toMemberRecord(item);
}

export async function changeMemberRole(input: {
  orgId: string;
  actor: { userId: string; role: Role };
  target: MemberRecord;
  newRole: Role;
}): Promise<void> {
  const { orgId, target, newRole } = input;
  const transaction = new MemberTransaction().add(
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
    () =>
      new ConflictError('The member’s role changed meanwhile; reload and retry', 'role_changed'),
  );
  // Changing your own role is checked by the update's own condition.
  if (input.actor.userId !== target.userId) {
    transaction.add(memberRoleCheck(orgId, input.actor.userId, input.actor.role), actorChanged);
  }
  if (target.role === 'owner' && newRole !== 'owner') {
    transaction.add(ownerCountChange(orgId, -1), lastOwner);
  }
  if (target.role !== 'owner' && newRole === 'owner') transaction.add(ownerCountChange(orgId, 1));
  await transaction.run();
}

export async function removeMember(input: {
  orgId: string;
  actor: { userId: string; role: Role };
  target: MemberRecord;
}): Promise<void> {
  const { orgId, target } = input;
  const transaction = new MemberTransaction()
    .add(
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
      () => new ConflictError('The member changed meanwhile; reload and retry', 'member_changed'),
    )
    .add({
      Delete: { TableName: tableName, Key: { pk: orgPk(orgId), sk: memberLlmSk(target.userId) } },
    });
  if (input.actor.userId !== target.userId) {
    transaction.add(memberRoleCheck(orgId, input.actor.userId, input.actor.role), actorChanged);
  }
  if (target.role === 'owner') transaction.add(ownerCountChange(orgId, -1), lastOwner);
  // A departed member's spend stays in the organization's books as unattributed spend, so the
  // members' spend still adds up to the organization's.
  if (target.lifetimeSpentMicros > 0) {
    const deltas = { unattributedSpentMicros: target.lifetimeSpentMicros };
    transaction.add(balanceUpdate(orgId, deltas, new Date().toISOString()));
  }
  await transaction.run();
}
