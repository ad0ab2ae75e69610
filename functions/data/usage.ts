import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { EventDetail } from '#catalogue/events';
import {
  balanceUpdate,
  ledgerEntryItem,
  markerPut,
  monthlySpendAttribute,
  newEntryId,
} from '#data/credits';
import { memberSk, memberSkPrefix, orgPk } from '#data/keys';
import { tableName } from '#data/table';
import { type TransactItem, transactWithRetry } from '#data/transact';
import { monthOf, usageKey } from '#domain/credits';
import type { Role } from '#domain/permissions';
import { documentClient } from '#platform/aws-clients';

/**
 * Usage charging and members' spend. A batch of usage for one organization is applied in as few
 * transactions as DynamoDB's 100-item limit allows: a marker per usage id, one BALANCE update,
 * one ledger entry and one update per member. The balance item is written once per chunk, not
 * once per usage event, so a busy organization does not make it a hot key.
 */
export type Usage = EventDetail<'UsageRecorded'>;

const maxTransactItems = 100;
/** BALANCE update + ledger entry. */
const fixedItemsPerChunk = 2;

export interface ChargeResult {
  charged: string[];
  duplicates: string[];
}

export async function chargeUsageBatch(orgId: string, usages: Usage[]): Promise<ChargeResult> {
  const unique = [...new Map(usages.map((usage) => [usage.usageId, usage])).values()];
  const result: ChargeResult = { charged: [], duplicates: [] };
  for (const chunk of chunksWithinTransactLimit(unique)) {
    const outcome = await chargeChunk(orgId, chunk);
    result.charged.push(...outcome.charged);
    result.duplicates.push(...outcome.duplicates);
  }
  return result;
}

/** Splits usages so each chunk's markers + member updates + fixed items fit one transaction. */
export function chunksWithinTransactLimit(usages: Usage[]): Usage[][] {
  const chunks: Usage[][] = [];
  let current: Usage[] = [];
  let members = new Set<string>();
  for (const usage of usages) {
    const itemsWithThis =
      current.length + 1 + members.size + (members.has(usage.userId) ? 0 : 1) + fixedItemsPerChunk;
    if (itemsWithThis > maxTransactItems) {
      chunks.push(current);
      current = [];
      members = new Set();
    }
    current.push(usage);
    members.add(usage.userId);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

async function chargeChunk(orgId: string, chunk: Usage[]): Promise<ChargeResult> {
  const duplicates: string[] = [];
  const departedMembers = new Set<string>();
  let pending = chunk;

  for (let attempt = 0; attempt < chunk.length + 5 && pending.length > 0; attempt++) {
    const { items, memberAt } = chunkTransaction(orgId, pending, departedMembers);
    const outcome = await transactWithRetry(items);
    if (outcome.ok) return { charged: pending.map((usage) => usage.usageId), duplicates };

    // Markers come first: a failed marker is a usage already charged; a failed member update
    // is a member who has left (charged to the organization as unattributed spend).
    const alreadyCharged = new Set<string>();
    for (const index of outcome.failedConditions) {
      const usage = pending[index];
      if (index < pending.length && usage) alreadyCharged.add(usage.usageId);
      const userId = memberAt.get(index);
      if (userId) departedMembers.add(userId);
    }
    duplicates.push(...alreadyCharged);
    pending = pending.filter((usage) => !alreadyCharged.has(usage.usageId));
  }
  if (pending.length > 0) throw new Error('Usage chunk could not be applied');
  return { charged: [], duplicates };
}

function chunkTransaction(orgId: string, usages: Usage[], departedMembers: Set<string>) {
  const now = new Date().toISOString();
  const items: TransactItem[] = usages.map((usage) =>
    markerPut(orgId, usageKey(usage.usageId), now, { costMicros: usage.costMicros }),
  );

  const total = usages.reduce((sum, usage) => sum + usage.costMicros, 0);
  const byMonth = new Map<string, number>();
  const byMember = new Map<string, Map<string, number>>();
  let unattributed = 0;
  for (const usage of usages) {
    const month = monthOf(usage.occurredAt);
    byMonth.set(month, (byMonth.get(month) ?? 0) + usage.costMicros);
    if (departedMembers.has(usage.userId)) {
      unattributed += usage.costMicros;
      continue;
    }
    const months = byMember.get(usage.userId) ?? new Map<string, number>();
    months.set(month, (months.get(month) ?? 0) + usage.costMicros);
    byMember.set(usage.userId, months);
  }

  const deltas: Record<string, number> = { balanceMicros: -total, spentMicros: total };
  for (const [month, spent] of byMonth) deltas[monthlySpendAttribute(month)] = spent;
  if (unattributed > 0) deltas.unattributedSpentMicros = unattributed;
  items.push(balanceUpdate(orgId, deltas, now));
  items.push({
    Put: {
      TableName: tableName,
      Item: ledgerEntryItem(orgId, {
        entryId: newEntryId(),
        kind: 'usage',
        amountMicros: -total,
        createdAt: now,
        usageCount: usages.length,
      }),
    },
  });

  const memberAt = new Map<number, string>();
  for (const [userId, months] of byMember) {
    memberAt.set(items.length, userId);
    items.push(memberSpendUpdate(orgId, userId, months));
  }
  return { items, memberAt };
}

function memberSpendUpdate(orgId: string, userId: string, months: Map<string, number>) {
  const names: Record<string, string> = {};
  const values: Record<string, number> = {};
  const adds: string[] = [];
  let lifetime = 0;
  [...months].forEach(([month, spent], index) => {
    names[`#m${index}`] = month;
    values[`:m${index}`] = spent;
    adds.push(`spentByMonth.#m${index} :m${index}`);
    lifetime += spent;
  });
  values[':lifetime'] = lifetime;
  return {
    Update: {
      TableName: tableName,
      Key: { pk: orgPk(orgId), sk: memberSk(userId) },
      UpdateExpression: `ADD lifetimeSpentMicros :lifetime, ${adds.join(', ')}`,
      // A member who left has no item: never recreate a membership from usage.
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  } satisfies TransactItem;
}

export interface MemberSpend {
  userId: string;
  email: string;
  role: Role;
  lifetimeSpentMicros: number;
  monthSpentMicros: number;
}

/**
 * One page of members with their spend, optionally only those whose email contains `emailFilter`
 * (case-insensitive). Filtering happens after the read, so a page is filled from as many reads as
 * needed (bounded by `maxItemsRead`); the cursor is the last member returned, or where reading
 * stopped, so a page may be short or even empty and the next one continues correctly.
 */
export async function listMembersSpend(
  orgId: string,
  options: {
    month: string;
    limit: number;
    startKey?: Record<string, unknown>;
    emailFilter?: string;
    maxItemsRead?: number;
  },
): Promise<{ members: MemberSpend[]; lastKey?: Record<string, unknown> }> {
  const needle = options.emailFilter?.toLowerCase();
  const maxItemsRead = options.maxItemsRead ?? 5_000;
  const members: MemberSpend[] = [];
  let startKey = options.startKey;
  let read = 0;

  while (members.length < options.limit && read < maxItemsRead) {
    const remaining = options.limit - members.length;
    const page = await documentClient.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :member)',
        ProjectionExpression:
          'pk, sk, userId, email, #role, lifetimeSpentMicros, spentByMonth.#month',
        ExpressionAttributeNames: { '#role': 'role', '#month': options.month },
        ExpressionAttributeValues: { ':pk': orgPk(orgId), ':member': memberSkPrefix },
        // One more than needed: a page that ends exactly at the last member says so (no cursor).
        Limit: needle ? Math.min(1_000, maxItemsRead - read) : remaining + 1,
        ExclusiveStartKey: startKey,
      }),
    );
    const items = page.Items ?? [];
    read += items.length;
    for (const [index, item] of items.entries()) {
      const email = String(item.email ?? '');
      if (needle && !email.toLowerCase().includes(needle)) continue;
      members.push(toMemberSpend(item, options.month));
      if (members.length === options.limit) {
        const more = index < items.length - 1 || page.LastEvaluatedKey !== undefined;
        return { members, lastKey: more ? { pk: item.pk, sk: item.sk } : undefined };
      }
    }
    startKey = page.LastEvaluatedKey;
    if (!startKey) return { members };
  }
  return { members, lastKey: startKey };
}

function toMemberSpend(item: Record<string, unknown>, month: string): MemberSpend {
  const byMonth = (item.spentByMonth as Record<string, number> | undefined) ?? {};
  return {
    userId: String(item.userId),
    email: String(item.email ?? ''),
    role: item.role as Role,
    lifetimeSpentMicros: Number(item.lifetimeSpentMicros ?? 0),
    monthSpentMicros: Number(byMonth[month] ?? 0),
  };
}

/** Every member's lifetime spend (reconciliation). */
export async function listAllMemberSpend(orgId: string): Promise<MemberSpend[]> {
  const all: MemberSpend[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documentClient.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :member)',
        ExpressionAttributeValues: { ':pk': orgPk(orgId), ':member': memberSkPrefix },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    all.push(...(page.Items ?? []).map((item) => toMemberSpend(item, '')));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return all;
}
