import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { emailGsiPk, gsi1, userPk, userProfileSk } from '#data/keys';
import { tableName } from '#data/table';
import { documentClient } from '#platform/aws-clients';

export interface UserProfile {
  userId: string;
  email: string;
}

/**
 * Records who a user is (id and email from their JWT) so others can add them by email. Written
 * when a user creates or lists organizations; idempotent.
 */
export async function recordUserProfile(profile: UserProfile): Promise<void> {
  await documentClient.send(
    new PutCommand({
      TableName: tableName,
      Item: {
        pk: userPk(profile.userId),
        sk: userProfileSk,
        entity: 'UserProfile',
        userId: profile.userId,
        email: profile.email,
        gsi1pk: emailGsiPk(profile.email),
        gsi1sk: userPk(profile.userId),
        updatedAt: new Date().toISOString(),
      },
    }),
  );
}

export async function findUserById(userId: string): Promise<UserProfile | undefined> {
  const { Item } = await documentClient.send(
    new GetCommand({ TableName: tableName, Key: { pk: userPk(userId), sk: userProfileSk } }),
  );
  return Item ? { userId: String(Item.userId), email: String(Item.email) } : undefined;
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
  return Items.map((item) => ({ userId: String(item.userId), email: String(item.email) }));
}
