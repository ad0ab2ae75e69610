import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { gitAccountSk, gitLoginGsiPk, gsi1, userPk } from '#data/keys';
import { tableName } from '#data/table';
import type { GitProvider } from '#domain/git-claims';
import { documentClient } from '#platform/aws-clients';

/**
 * Linked Git accounts: `USER#<userId>` / `GITACCOUNT#<provider>`, found by Git login through
 * gsi1 `GITLOGIN#<provider>#<lower login>`. The token is stored only as ciphertext.
 */
export interface GitAccount {
  userId: string;
  provider: GitProvider;
  gitUserId: string;
  login: string;
  encryptedToken: string;
  tokenHint: string;
  linkedAt: string;
}

/** Encryption context of a linked token: the item it belongs to, so a copied ciphertext fails. */
export function gitTokenContext(userId: string, provider: GitProvider): string {
  return `${userPk(userId)}/${gitAccountSk(provider)}`;
}

export async function putGitAccount(account: GitAccount): Promise<void> {
  await documentClient.send(
    new PutCommand({
      TableName: tableName,
      Item: {
        pk: userPk(account.userId),
        sk: gitAccountSk(account.provider),
        entity: 'GitAccount',
        ...account,
        gsi1pk: gitLoginGsiPk(account.provider, account.login),
        gsi1sk: userPk(account.userId),
      },
    }),
  );
}

export async function getGitAccount(
  userId: string,
  provider: GitProvider,
): Promise<GitAccount | undefined> {
  const { Item } = await documentClient.send(
    new GetCommand({
      TableName: tableName,
      Key: { pk: userPk(userId), sk: gitAccountSk(provider) },
    }),
  );
  return Item ? toGitAccount(Item) : undefined;
}

export async function listGitAccounts(userId: string): Promise<GitAccount[]> {
  const { Items = [] } = await documentClient.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': userPk(userId), ':prefix': gitAccountSk('') },
    }),
  );
  return Items.map(toGitAccount);
}

/** Removes the link; false when there was none. */
export async function deleteGitAccount(userId: string, provider: GitProvider): Promise<boolean> {
  const { Attributes } = await documentClient.send(
    new DeleteCommand({
      TableName: tableName,
      Key: { pk: userPk(userId), sk: gitAccountSk(provider) },
      ReturnValues: 'ALL_OLD',
    }),
  );
  return Attributes !== undefined;
}

/**
 * Platform users who linked the Git account with this login (case-insensitive). Several users
 * may have linked the same Git account; each proved it with a working token.
 */
export async function findLinkedUsersByGitLogin(
  provider: GitProvider,
  login: string,
): Promise<Array<Pick<GitAccount, 'userId' | 'gitUserId' | 'login'>>> {
  const found: Array<Pick<GitAccount, 'userId' | 'gitUserId' | 'login'>> = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documentClient.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: gsi1,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': gitLoginGsiPk(provider, login) },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      found.push({
        userId: String(item.userId),
        gitUserId: String(item.gitUserId),
        login: String(item.login),
      });
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return found;
}

function toGitAccount(item: Record<string, unknown>): GitAccount {
  return {
    userId: String(item.userId),
    provider: item.provider as GitProvider,
    gitUserId: String(item.gitUserId),
    login: String(item.login),
    encryptedToken: String(item.encryptedToken),
    tokenHint: String(item.tokenHint ?? ''),
    linkedAt: String(item.linkedAt),
  };
}
