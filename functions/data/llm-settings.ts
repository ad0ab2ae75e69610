import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { memberLlmSk, memberSk, orgLlmSk, orgPk } from '#data/keys';
import { tableName } from '#data/table';
import { transactOrThrow } from '#data/transact';
import type { StoredLlmSettings } from '#domain/llm';
import type { Role } from '#domain/permissions';
import { documentClient } from '#platform/aws-clients';
import { ConflictError } from '#platform/errors';

/** LLM settings items: the organization default and members' personal overrides. */
export interface LlmSettingsWrite {
  provider: string;
  model: string;
  baseUrl?: string;
  /** Encrypted API key and its hint; absent when no key is set. */
  apiKeyCiphertext?: string;
  apiKeyHint?: string;
  updatedBy: string;
}

export function toStoredLlmSettings(
  item: Record<string, unknown> | undefined,
): StoredLlmSettings | undefined {
  if (!item) return undefined;
  return {
    provider: String(item.provider),
    model: String(item.model),
    baseUrl: typeof item.baseUrl === 'string' ? item.baseUrl : undefined,
    apiKeyHint: typeof item.apiKeyHint === 'string' ? item.apiKeyHint : undefined,
    apiKeySet: typeof item.apiKeyCiphertext === 'string',
  };
}

/** Writes the organization default while the writer still holds one of `writerRoles`. */
export async function putOrgLlmSettings(
  orgId: string,
  settings: LlmSettingsWrite,
  writerRoles: readonly Role[],
) {
  await putSettings(orgId, orgLlmSk, 'OrgLlmSettings', settings, writerRoles);
}

export async function putMemberLlmOverride(
  orgId: string,
  userId: string,
  settings: LlmSettingsWrite,
) {
  await putSettings(orgId, memberLlmSk(userId), 'MemberLlmOverride', { ...settings, userId });
}

export async function deleteMemberLlmOverride(orgId: string, userId: string) {
  await documentClient.send(
    new DeleteCommand({ TableName: tableName, Key: { pk: orgPk(orgId), sk: memberLlmSk(userId) } }),
  );
}

/**
 * Puts a settings item together with a check that its writer is still a member (with one of
 * `writerRoles` when given), so a member removed a moment ago cannot write.
 */
async function putSettings(
  orgId: string,
  sk: string,
  entity: string,
  settings: LlmSettingsWrite & { userId?: string },
  writerRoles?: readonly Role[],
) {
  const roleValues = Object.fromEntries((writerRoles ?? []).map((role, i) => [`:r${i}`, role]));
  const roleCondition = writerRoles ? ` AND #role IN (${Object.keys(roleValues).join(', ')})` : '';
  await transactOrThrow(
    [
      {
        Put: {
          TableName: tableName,
          Item: {
            pk: orgPk(orgId),
            sk,
            entity,
            orgId,
            ...settings,
            updatedAt: new Date().toISOString(),
          },
        },
      },
      {
        ConditionCheck: {
          TableName: tableName,
          Key: { pk: orgPk(orgId), sk: memberSk(settings.updatedBy) },
          ConditionExpression: `attribute_exists(pk)${roleCondition}`,
          ...(writerRoles
            ? {
                ExpressionAttributeNames: { '#role': 'role' },
                ExpressionAttributeValues: roleValues,
              }
            : {}),
        },
      },
    ],
    {
      1: () => new ConflictError('Your membership changed while this request ran', 'role_changed'),
    },
  );
}
