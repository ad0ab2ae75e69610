import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { emailGsiPk, gsi1, userPk, userProfileSk } from '#data/keys';
import { tableName } from '#data/table';
import { documentClient } from '#platform/aws-clients';

export interface UserProfile {
  userId: string;
  email: string;
}

/**
 * Who a user is (id and verified email from their JWT), so others can add them by email. Written
 * in the transaction that creates an organization and, when missing or changed, when a user lists
 * their organizations (the first thing a client does after sign-in).
 */
export function userProfileItem(profile: UserProfile, now: string): Record<string, unknown> {
  return {
    pk: userPk(profile.userId),
    sk: userProfileSk,
    entity: 'UserProfile',
    userId: profile.userId,
    email: profile.email,
    gsi1pk: emailGsiPk(profile.email),
    gsi1sk: userPk(profile.userId),
    updatedAt: now,
  };
}

/** The profile item's key, for reads batched with other items. */
export const userProfileKey = (userId: string) => ({ pk: userPk(userId), sk: userProfileSk });

export function toUserProfile(item: Record<string, unknown>): UserProfile {
  return { userId: String(item.userId), email: String(item.email) };
}

/** Writes the profile; idempotent. */
export async function recordUserProfile(profile: UserProfile): Promise<void> {
  await documentClient.send(
    new PutCommand({
      TableName: tableName,
      Item: userProfileItem(profile, new Date().toISOString()),
    }),
  );
}

export async function findUserById(userId: string): Promise<UserProfile | undefined> {
  const { Item } = await documentClient.send(
    new GetCommand({ TableName: tableName, Key: userProfileKey(userId) }),
  );
  return Item ? toUserProfile(Item) : undefined;
}

/** Users whose verified email is `email` (case-insensitive); normally zero or one. */
export async function findUsersByEmail(email: string): Promise<UserProfile[]> {
  const { Items = [] } = await documentClient.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: gsi1,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': emailGsiPk(email) },
      Limit: 2,
    }),
  );
  return Items.map(toUserProfile);
}
