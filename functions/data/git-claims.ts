import type { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { batchGetItems } from '#data/batch-get';
import type { DynamoKey } from '#data/cursor';
import {
  balanceSk,
  gitAliasPk,
  gitAliasSk,
  gitOrgClaimSk,
  gitOrgPk,
  gsi1,
  memberSk,
  orgClaimSk,
  orgClaimSkPrefix,
  orgMetaSk,
  orgPk,
} from '#data/keys';
import { memberRoleCheck } from '#data/memberships';
import { tableName } from '#data/table';
import { type TransactItem, transactOrThrow, transactWithRetry } from '#data/transact';
import type { GitClaim, GitProvider } from '#domain/git-claims';
import { documentClient } from '#platform/aws-clients';
import { ConflictError, ForbiddenError, NotFoundError } from '#platform/errors';

/**
 * Git organization claims. One claim is three items, always written and deleted together:
 *   GITORG#<provider>#<gitOrgId> / CLAIM    the claim, unique per Git organization (by id)
 *   GITALIAS#<provider>#<lower login> / ALIAS   routes a login or GitLab path to that id
 *   ORG#<orgId> / CLAIM#<claimId>           the organization's view, listed with its data
 * GitLab claims also carry gsi1 `GITLABPATH#<lower top-level group>` / `<lower full path>` so a
 * group rename finds the claims of its subgroups, whose paths change with it.
 */
const gitlabPathGsiPk = (path: string) => `GITLABPATH#${path.toLowerCase().split('/')[0]}`;

function claimAttributes(claim: GitClaim) {
  const attributes: Record<string, unknown> = { ...claim, aliasKey: claim.login.toLowerCase() };
  if (claim.provider === 'gitlab') {
    attributes.gsi1pk = gitlabPathGsiPk(claim.login);
    attributes.gsi1sk = claim.login.toLowerCase();
  }
  return attributes;
}

/**
 * Writes a claim in one transaction: the Git organization's claim (only if unclaimed), its
 * alias, the organization's view, and a check that the caller is still an owner. A Git
 * organization already claimed is 409, also when two organizations claim at the same moment.
 * The alias is overwritten on purpose: the provider just confirmed that this login belongs to
 * this id, so an alias left behind by a missed rename is stale.
 */
export async function createClaim(claim: GitClaim): Promise<void> {
  const items: TransactItem[] = [
    {
      Put: {
        TableName: tableName,
        Item: {
          pk: gitOrgPk(claim.provider, claim.gitOrgId),
          sk: gitOrgClaimSk,
          entity: 'GitClaim',
          ...claimAttributes(claim),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    },
    { Put: { TableName: tableName, Item: aliasItem(claim, claim.login) } },
    {
      Put: {
        TableName: tableName,
        Item: {
          pk: orgPk(claim.orgId),
          sk: orgClaimSk(claim.claimId),
          entity: 'OrgGitClaim',
          ...claim,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    // The organization first: when it was deleted meanwhile, so was the owner's membership,
    // and "not found" is the answer that explains both.
    claimCountChange(claim.orgId, 1),
    memberRoleCheck(claim.orgId, claim.claimedBy, 'owner'),
  ];

  await transactOrThrow(items, {
    0: (error) =>
      new ConflictError(
        readCancelledItem(error, 0)?.orgId === claim.orgId
          ? 'This organization has already claimed that Git organization'
          : 'That Git organization is already claimed by another organization',
        'git_organization_already_claimed',
      ),
    3: () => new NotFoundError('Organization not found', 'organization_not_found'),
    4: () => new ForbiddenError('Only owners can claim', 'not_owner'),
  });
}

/**
 * The organization's count of claims, kept in the same transactions as the claims: deleting an
 * organization requires it to be zero, so a claim cannot outlive its organization.
 */
function claimCountChange(orgId: string, delta: 1 | -1): TransactItem {
  return {
    Update: {
      TableName: tableName,
      Key: { pk: orgPk(orgId), sk: orgMetaSk },
      UpdateExpression: 'ADD claimCount :delta',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':delta': delta },
    },
  };
}

/**
 * Deletes the claim's three items at once, freeing the Git organization. The alias is deleted
 * only while it still points to this Git organization; that is checked in the transaction rather
 * than read first, and in the rare case it fails (a later claim took the login over) the
 * transaction runs again without the alias.
 */
export async function deleteClaim(claim: GitClaim, actingUserId: string): Promise<void> {
  const items: TransactItem[] = [
    {
      Delete: {
        TableName: tableName,
        Key: { pk: gitOrgPk(claim.provider, claim.gitOrgId), sk: gitOrgClaimSk },
        ConditionExpression: 'claimId = :claimId',
        ExpressionAttributeValues: { ':claimId': claim.claimId },
      },
    },
    {
      Delete: {
        TableName: tableName,
        Key: { pk: orgPk(claim.orgId), sk: orgClaimSk(claim.claimId) },
      },
    },
    memberRoleCheck(claim.orgId, actingUserId, 'owner'),
    claimCountChange(claim.orgId, -1),
  ];
  const aliasIndex = items.length;
  const reason = (index: number) =>
    index === 2
      ? new ForbiddenError('Only owners can unclaim', 'not_owner')
      : new ConflictError('The claim changed while unclaiming; retry', 'claim_changed');

  const outcome = await transactWithRetry([...items, ownAliasDeletion(claim)]);
  if (outcome.ok) return;
  const failed = outcome.failedConditions.filter((index) => index !== aliasIndex);
  if (failed.length > 0) throw reason(failed[0] as number);
  const retried = await transactWithRetry(items);
  if (!retried.ok) throw reason(retried.failedConditions[0] as number);
}

/** Deletes the claim's alias when it still points to its Git organization (or is gone). */
function ownAliasDeletion(claim: GitClaim): TransactItem {
  return {
    Delete: {
      TableName: tableName,
      Key: { pk: gitAliasPk(claim.provider, claim.login), sk: gitAliasSk },
      ConditionExpression: 'attribute_not_exists(pk) OR gitOrgId = :gitOrgId',
      ExpressionAttributeValues: { ':gitOrgId': claim.gitOrgId },
    },
  };
}

/**
 * Points the claim at its new login or path: the new alias routes, the old one (if it still
 * points here) is deleted, both claim items show the new name. No-op when already applied.
 */
export async function renameClaim(claim: GitClaim, newLogin: string): Promise<boolean> {
  if (claim.login === newLogin) return false;
  const renamed: GitClaim = { ...claim, login: newLogin };
  const attributes = claimAttributes(renamed);
  const set = ['login', 'aliasKey', ...(claim.provider === 'gitlab' ? ['gsi1pk', 'gsi1sk'] : [])];

  const items: TransactItem[] = [
    {
      Update: {
        TableName: tableName,
        Key: { pk: gitOrgPk(claim.provider, claim.gitOrgId), sk: gitOrgClaimSk },
        UpdateExpression: `SET ${set.map((name) => `#${name} = :${name}`).join(', ')}`,
        ConditionExpression: 'claimId = :claimId',
        ExpressionAttributeNames: Object.fromEntries(set.map((name) => [`#${name}`, name])),
        ExpressionAttributeValues: {
          ...Object.fromEntries(set.map((name) => [`:${name}`, attributes[name]])),
          ':claimId': claim.claimId,
        },
      },
    },
    {
      Update: {
        TableName: tableName,
        Key: { pk: orgPk(claim.orgId), sk: orgClaimSk(claim.claimId) },
        UpdateExpression: 'SET login = :login',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':login': newLogin },
      },
    },
    { Put: { TableName: tableName, Item: aliasItem(renamed, newLogin) } },
  ];
  if (claim.login.toLowerCase() !== newLogin.toLowerCase()) {
    items.push(...(await aliasDeletion(claim, claim.login)));
  }
  await transactOrThrow(items, {});
  return true;
}

/** Marks the claim suspended (Git organization deleted, app uninstalled). Idempotent. */
export async function suspendClaim(claim: GitClaim, reason: string): Promise<void> {
  const update = (Key: DynamoKey, condition: string, values: Record<string, unknown> = {}) => ({
    Update: {
      TableName: tableName,
      Key,
      UpdateExpression: 'SET #status = :suspended, suspendedReason = :reason',
      ConditionExpression: condition,
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':suspended': 'suspended', ':reason': reason, ...values },
    },
  });
  await transactOrThrow(
    [
      update({ pk: gitOrgPk(claim.provider, claim.gitOrgId), sk: gitOrgClaimSk }, 'claimId = :id', {
        ':id': claim.claimId,
      }),
      update({ pk: orgPk(claim.orgId), sk: orgClaimSk(claim.claimId) }, 'attribute_exists(pk)'),
    ],
    {},
  );
}

export async function getClaimByGitOrgId(
  provider: GitProvider,
  gitOrgId: string,
): Promise<GitClaim | undefined> {
  const { Item } = await documentClient.send(
    new GetCommand({
      TableName: tableName,
      Key: { pk: gitOrgPk(provider, gitOrgId), sk: gitOrgClaimSk },
    }),
  );
  return Item ? toGitClaim(Item) : undefined;
}

/** Claims of many Git organizations at once, keyed `<provider>#<gitOrgId>`. */
export async function getClaimsByGitOrgIds(
  refs: Array<{ provider: GitProvider; gitOrgId: string }>,
): Promise<Map<string, GitClaim>> {
  const keys = refs.map((ref) => ({ pk: gitOrgPk(ref.provider, ref.gitOrgId), sk: gitOrgClaimSk }));
  const claims = new Map<string, GitClaim>();
  for (const item of await batchGetItems(keys)) {
    const claim = toGitClaim(item);
    claims.set(`${claim.provider}#${claim.gitOrgId}`, claim);
  }
  return claims;
}

export async function getOrganizationClaim(
  orgId: string,
  claimId: string,
): Promise<GitClaim | undefined> {
  const { Item } = await documentClient.send(
    new GetCommand({ TableName: tableName, Key: { pk: orgPk(orgId), sk: orgClaimSk(claimId) } }),
  );
  return Item ? toGitClaim(Item) : undefined;
}

export async function listOrganizationClaims(
  orgId: string,
  page: { limit: number; startKey: DynamoKey | undefined },
): Promise<{ claims: GitClaim[]; lastKey: DynamoKey | undefined }> {
  const result = await documentClient.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': orgPk(orgId), ':prefix': orgClaimSkPrefix },
      Limit: page.limit,
      ExclusiveStartKey: page.startKey,
    }),
  );
  return { claims: (result.Items ?? []).map(toGitClaim), lastKey: result.LastEvaluatedKey };
}

/**
 * The claim a repository belongs to: the nearest of `paths` (lower-cased, nearest first) whose
 * alias leads to a claim that still answers to that path.
 */
export async function findNearestClaim(
  provider: GitProvider,
  paths: string[],
): Promise<GitClaim | undefined> {
  const aliases = await batchGetItems(
    paths.map((path) => ({ pk: gitAliasPk(provider, path), sk: gitAliasSk })),
  );
  const byPath = new Map(aliases.map((alias) => [String(alias.aliasKey), String(alias.gitOrgId)]));
  for (const path of paths) {
    const gitOrgId = byPath.get(path);
    if (gitOrgId === undefined) continue;
    const claim = await getClaimByGitOrgId(provider, gitOrgId);
    if (claim && claim.login.toLowerCase() === path) return claim;
  }
  return undefined;
}

/** GitLab claims at `path` or below it (its subgroups), for renames of a parent group. */
export async function findGitlabClaimsAtOrBelow(path: string): Promise<GitClaim[]> {
  const lower = path.toLowerCase();
  const found: GitClaim[] = [];
  let startKey: DynamoKey | undefined;
  do {
    const page = await documentClient.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: gsi1,
        KeyConditionExpression: 'gsi1pk = :pk AND begins_with(gsi1sk, :path)',
        ExpressionAttributeValues: { ':pk': gitlabPathGsiPk(lower), ':path': lower },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const sk = String(item.gsi1sk);
      if (sk === lower || sk.startsWith(`${lower}/`)) found.push(toGitClaim(item));
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return found;
}

/**
 * What routing needs from the claiming organization, in one round trip: which of `userIds` are
 * members, and the balance (a missing balance item is zero).
 */
export async function readRoutingFacts(
  orgId: string,
  userIds: string[],
): Promise<{ memberUserIds: string[]; balanceMicros: number }> {
  const keys = [balanceSk, ...userIds.map(memberSk)].map((sk) => ({ pk: orgPk(orgId), sk }));
  const items = await batchGetItems(keys);
  const balance = items.find((item) => item.sk === balanceSk);
  return {
    memberUserIds: items.filter((item) => item.sk !== balanceSk).map((item) => String(item.userId)),
    balanceMicros: Number(balance?.balanceMicros ?? 0),
  };
}

function aliasItem(claim: GitClaim, login: string) {
  return {
    pk: gitAliasPk(claim.provider, login),
    sk: gitAliasSk,
    entity: 'GitAlias',
    provider: claim.provider,
    aliasKey: login.toLowerCase(),
    gitOrgId: claim.gitOrgId,
    claimId: claim.claimId,
    orgId: claim.orgId,
  };
}

/** Deletes the alias of `login` only when it still points to this claim's Git organization. */
async function aliasDeletion(claim: GitClaim, login: string): Promise<TransactItem[]> {
  const Key = { pk: gitAliasPk(claim.provider, login), sk: gitAliasSk };
  const { Item } = await documentClient.send(new GetCommand({ TableName: tableName, Key }));
  if (!Item || String(Item.gitOrgId) !== claim.gitOrgId) return [];
  return [
    {
      Delete: {
        TableName: tableName,
        Key,
        ConditionExpression: 'gitOrgId = :gitOrgId',
        ExpressionAttributeValues: { ':gitOrgId': claim.gitOrgId },
      },
    },
  ];
}

function readCancelledItem(
  error: TransactionCanceledException,
  index: number,
): Record<string, unknown> | undefined {
  // CancellationReasons carry raw attribute values ({ S: '...' }), not document values.
  const item = error.CancellationReasons?.[index]?.Item;
  return item ? unmarshall(item) : undefined;
}

export function toGitClaim(item: Record<string, unknown>): GitClaim {
  const claim: GitClaim = {
    claimId: String(item.claimId),
    orgId: String(item.orgId),
    provider: item.provider as GitProvider,
    gitOrgId: String(item.gitOrgId),
    login: String(item.login),
    status: item.status === 'suspended' ? 'suspended' : 'active',
    claimedBy: String(item.claimedBy),
    claimedAt: String(item.claimedAt),
  };
  if (typeof item.suspendedReason === 'string') claim.suspendedReason = item.suspendedReason;
  return claim;
}
