import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetItems } from '#data/batch-get';
import { memberSk, orgPk } from '#data/keys';
import { tableName } from '#data/table';
import type { Membership, Role } from '#domain/permissions';
import { documentClient } from '#platform/aws-clients';

export interface MemberRecord extends Membership {
  email: string;
  joinedAt: string;
  lifetimeSpentMicros: number;
  /** Spend per calendar month (UTC), keyed `YYYY-MM`. */
  spentByMonth: Record<string, number>;
}

export function toMemberRecord(item: Record<string, unknown>): MemberRecord {
  return {
    orgId: String(item.orgId),
    userId: String(item.userId),
    role: item.role as Role,
    email: String(item.email ?? ''),
    joinedAt: String(item.joinedAt ?? ''),
    lifetimeSpentMicros: Number(item.lifetimeSpentMicros ?? 0),
    spentByMonth: (item.spentByMonth as Record<string, number> | undefined) ?? {},
  };
}

export async function getMembership(
  orgId: string,
  userId: string,
): Promise<MemberRecord | undefined> {
  const { Item } = await documentClient.send(
    new GetCommand({ TableName: tableName, Key: { pk: orgPk(orgId), sk: memberSk(userId) } }),
  );
  return Item ? toMemberRecord(Item) : undefined;
}

/**
 * The caller's membership and other items of the same organization in one round trip
 * (BatchGetItem). Returns the membership (undefined when the caller is not a member) and the
 * other items by sort key.
 */
export async function getMembershipWith(
  orgId: string,
  userId: string,
  sortKeys: string[],
): Promise<{ membership: MemberRecord | undefined; items: Map<string, Record<string, unknown>> }> {
  const pk = orgPk(orgId);
  const keys = [memberSk(userId), ...sortKeys].map((sk) => ({ pk, sk }));
  const items = new Map<string, Record<string, unknown>>();
  for (const item of await batchGetItems(keys)) items.set(String(item.sk), item);

  const memberItem = items.get(memberSk(userId));
  items.delete(memberSk(userId));
  return { membership: memberItem ? toMemberRecord(memberItem) : undefined, items };
}

/**
 * A transaction item that holds only while `userId` still has `role` in the organization, so a
 * write decided on a role read a moment ago cannot land after that role changed.
 */
export function memberRoleCheck(orgId: string, userId: string, role: Role) {
  return {
    ConditionCheck: {
      TableName: tableName,
      Key: { pk: orgPk(orgId), sk: memberSk(userId) },
      ConditionExpression: '#role = :role',
      ExpressionAttributeNames: { '#role': 'role' },
      ExpressionAttributeValues: { ':role': role },
    },
  };
}
