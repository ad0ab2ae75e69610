import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EventDetail } from '#catalogue/events';
import {
  appliedSk,
  balanceSk,
  checkoutSk,
  ledgerSk,
  ledgerSkPrefix,
  orgMetaSk,
  orgPk,
  paymentPk,
  paymentSk,
} from '#data/keys';
import { tableName } from '#data/table';
import { type TransactItem, transactWithRetry } from '#data/transact';
import { type LedgerEntryKind, purchaseKey, reversalKey } from '#domain/credits';
import { documentClient } from '#platform/aws-clients';
import { NotFoundError } from '#platform/errors';

/**
 * The credit ledger of an organization (DESIGN §4). Every balance change writes, in one
 * transaction, its ledger entry, its idempotency marker (`APPLIED#<key>`) and the BALANCE item,
 * so the balance equals the sum of its entries at every moment.
 */
export interface CreditBalance {
  balanceMicros: number;
  purchasedMicros: number;
  spentMicros: number;
  refundedMicros: number;
  disputedMicros: number;
  adjustedMicros: number;
  /** Spend of usage whose member was no longer in the organization. */
  unattributedSpentMicros: number;
  /** Usage spend per calendar month (UTC), keyed `YYYY-MM`. */
  spentByMonth: Record<string, number>;
}

/** BALANCE keeps monthly spend as flat attributes (`spentMicros:YYYY-MM`): no map to create. */
export const monthlySpendAttribute = (month: string) => `spentMicros:${month}`;

export function toCreditBalance(item: Record<string, unknown> | undefined): CreditBalance {
  const spentByMonth: Record<string, number> = {};
  for (const [name, value] of Object.entries(item ?? {})) {
    if (name.startsWith('spentMicros:')) spentByMonth[name.slice(12)] = Number(value);
  }
  const n = (name: string) => Number(item?.[name] ?? 0);
  return {
    balanceMicros: n('balanceMicros'),
    purchasedMicros: n('purchasedMicros'),
    spentMicros: n('spentMicros'),
    refundedMicros: n('refundedMicros'),
    disputedMicros: n('disputedMicros'),
    adjustedMicros: n('adjustedMicros'),
    unattributedSpentMicros: n('unattributedSpentMicros'),
    spentByMonth,
  };
}

export async function getCreditBalance(orgId: string): Promise<CreditBalance> {
  const { Item } = await documentClient.send(
    new GetCommand({
      TableName: tableName,
      Key: { pk: orgPk(orgId), sk: balanceSk },
      ConsistentRead: true,
    }),
  );
  return toCreditBalance(Item);
}

export interface LedgerEntry {
  entryId: string;
  kind: LedgerEntryKind;
  /** Signed: positive adds credits, negative removes them. */
  amountMicros: number;
  createdAt: string;
  idempotencyKey?: string;
  checkoutSessionId?: string;
  reversalId?: string;
  stripeEventId?: string;
  usageCount?: number;
}

export function ledgerEntryItem(orgId: string, entry: LedgerEntry): Record<string, unknown> {
  return {
    pk: orgPk(orgId),
    sk: ledgerSk(entry.createdAt, entry.entryId),
    entity: 'LedgerEntry',
    orgId,
    ...entry,
  };
}

export function toLedgerEntry(item: Record<string, unknown>): LedgerEntry {
  const optional = <T>(value: unknown) => (value === undefined ? undefined : (value as T));
  return {
    entryId: String(item.entryId),
    kind: item.kind as LedgerEntryKind,
    amountMicros: Number(item.amountMicros),
    createdAt: String(item.createdAt),
    checkoutSessionId: optional<string>(item.checkoutSessionId),
    reversalId: optional<string>(item.reversalId),
    usageCount: optional<number>(item.usageCount),
  };
}

export function newEntryId(): string {
  return randomUUID();
}

/** The BALANCE update of one change: `deltas` are ADDed (balanceMicros and the totals). */
export function balanceUpdate(orgId: string, deltas: Record<string, number>, now: string) {
  const names: Record<string, string> = { '#entity': 'entity', '#orgId': 'orgId' };
  const values: Record<string, unknown> = { ':entity': 'CreditBalance', ':orgId': orgId };
  const adds: string[] = [];
  Object.entries(deltas).forEach(([attribute, delta], index) => {
    names[`#a${index}`] = attribute;
    values[`:a${index}`] = delta;
    adds.push(`#a${index} :a${index}`);
  });
  values[':now'] = now;
  return {
    Update: {
      TableName: tableName,
      Key: { pk: orgPk(orgId), sk: balanceSk },
      UpdateExpression: `SET #entity = :entity, #orgId = :orgId, updatedAt = :now ADD ${adds.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  } satisfies TransactItem;
}

export function markerPut(orgId: string, key: string, now: string, extra: object = {}) {
  return {
    Put: {
      TableName: tableName,
      Item: {
        pk: orgPk(orgId),
        sk: appliedSk(key),
        entity: 'IdempotencyMarker',
        key,
        appliedAt: now,
        ...extra,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  } satisfies TransactItem;
}

export type ApplyResult = 'applied' | 'duplicate';

/**
 * Grants a paid Checkout Session's credits once (marker `purchase:<sessionId>`), marks the
 * recorded session paid, and remembers which organization its PaymentIntent belongs to.
 */
export async function grantPurchasedCredits(
  detail: EventDetail<'CreditPurchasePaid'>,
): Promise<ApplyResult> {
  const now = new Date().toISOString();
  const key = purchaseKey(detail.checkoutSessionId);
  const items: TransactItem[] = [
    markerPut(detail.orgId, key, now, { amountMicros: detail.amountMicros }),
    {
      Put: {
        TableName: tableName,
        Item: ledgerEntryItem(detail.orgId, {
          entryId: newEntryId(),
          kind: 'purchase',
          amountMicros: detail.amountMicros,
          createdAt: now,
          idempotencyKey: key,
          checkoutSessionId: detail.checkoutSessionId,
          stripeEventId: detail.stripeEventId,
        }),
      },
    },
    balanceUpdate(
      detail.orgId,
      { balanceMicros: detail.amountMicros, purchasedMicros: detail.amountMicros },
      now,
    ),
    {
      Update: {
        TableName: tableName,
        Key: { pk: orgPk(detail.orgId), sk: checkoutSk(detail.checkoutSessionId) },
        UpdateExpression:
          'SET entity = :entity, orgId = :orgId, sessionId = :sid, #status = :paid, ' +
          'paidAt = :now, creditedMicros = :amount',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':entity': 'CheckoutSession',
          ':orgId': detail.orgId,
          ':sid': detail.checkoutSessionId,
          ':paid': 'paid',
          ':now': now,
          ':amount': detail.amountMicros,
        },
      },
    },
  ];
  if (detail.paymentIntentId) {
    items.push({
      Put: {
        TableName: tableName,
        Item: {
          pk: paymentPk(detail.paymentIntentId),
          sk: paymentSk,
          entity: 'PaymentLink',
          orgId: detail.orgId,
          checkoutSessionId: detail.checkoutSessionId,
        },
      },
    });
  }

  const outcome = await transactWithRetry(items);
  if (outcome.ok) return 'applied';
  if (outcome.failedConditions.includes(0)) return 'duplicate';
  throw new Error(`Unexpected condition failure at ${outcome.failedConditions.join(',')}`);
}

/**
 * Revokes credits for a refund or lost dispute. `amountMicros` is the total reversed so far
 * under `reversalId` (Stripe reports refunds cumulatively per charge), so the marker keeps what
 * was applied and only the increase is revoked: duplicates and stale, out-of-order events
 * change nothing.
 */
export async function revokeCredits(
  detail: EventDetail<'CreditPurchaseReversed'>,
): Promise<ApplyResult> {
  const key = reversalKey(detail.reversalId);
  const kind: LedgerEntryKind = detail.reason === 'refund' ? 'refund' : 'dispute';
  const total = kind === 'refund' ? 'refundedMicros' : 'disputedMicros';

  for (let attempt = 0; attempt < 10; attempt++) {
    const marker = await getMarker(detail.orgId, key);
    const applied = Number(marker?.appliedMicros ?? 0);
    const delta = detail.amountMicros - applied;
    if (delta <= 0) return 'duplicate';

    const now = new Date().toISOString();
    const markerItem: TransactItem = marker
      ? {
          Update: {
            TableName: tableName,
            Key: { pk: orgPk(detail.orgId), sk: appliedSk(key) },
            UpdateExpression: 'SET appliedMicros = :new, appliedAt = :now',
            ConditionExpression: 'appliedMicros = :old',
            ExpressionAttributeValues: {
              ':new': detail.amountMicros,
              ':old': applied,
              ':now': now,
            },
          },
        }
      : markerPut(detail.orgId, key, now, { appliedMicros: detail.amountMicros });
    const outcome = await transactWithRetry([
      markerItem,
      {
        Put: {
          TableName: tableName,
          Item: ledgerEntryItem(detail.orgId, {
            entryId: newEntryId(),
            kind,
            amountMicros: -delta,
            createdAt: now,
            idempotencyKey: `${key}@${detail.amountMicros}`,
            checkoutSessionId: detail.checkoutSessionId,
            reversalId: detail.reversalId,
            stripeEventId: detail.stripeEventId,
          }),
        },
      },
      balanceUpdate(detail.orgId, { balanceMicros: -delta, [total]: delta }, now),
    ]);
    if (outcome.ok) return 'applied';
    // Another delivery moved the marker first: read it again and revoke what is left, if any.
  }
  throw new Error('Reversal kept conflicting with concurrent deliveries');
}

async function getMarker(orgId: string, key: string) {
  const { Item } = await documentClient.send(
    new GetCommand({
      TableName: tableName,
      Key: { pk: orgPk(orgId), sk: appliedSk(key) },
      ConsistentRead: true,
    }),
  );
  return Item;
}

/** Newest first; `startKey` is the previous page's LastEvaluatedKey. */
export async function listLedgerEntries(
  orgId: string,
  page: { limit: number; startKey?: Record<string, unknown> },
): Promise<{ entries: LedgerEntry[]; lastKey?: Record<string, unknown> }> {
  const result = await documentClient.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :ledger)',
      ExpressionAttributeValues: { ':pk': orgPk(orgId), ':ledger': ledgerSkPrefix },
      ScanIndexForward: false,
      Limit: page.limit,
      ExclusiveStartKey: page.startKey,
    }),
  );
  return { entries: (result.Items ?? []).map(toLedgerEntry), lastKey: result.LastEvaluatedKey };
}

/** Every ledger entry of an organization, oldest first (reconciliation). */
export async function listAllLedgerEntries(orgId: string): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const result = await documentClient.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :ledger)',
        ExpressionAttributeValues: { ':pk': orgPk(orgId), ':ledger': ledgerSkPrefix },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    entries.push(...(result.Items ?? []).map(toLedgerEntry));
    startKey = result.LastEvaluatedKey;
  } while (startKey);
  return entries;
}

export interface CheckoutRecord {
  orgId: string;
  sessionId: string;
  amountUsd: number;
  status: string;
  createdBy: string;
  createdAt: string;
  url: string | null;
}

/** Records a created Checkout Session; a double submit that got the same session is a no-op. */
export async function recordCheckoutSession(record: CheckoutRecord): Promise<void> {
  try {
    await documentClient.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: orgPk(record.orgId),
          sk: checkoutSk(record.sessionId),
          entity: 'CheckoutSession',
          ...record,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

export async function getCheckoutSession(
  orgId: string,
  sessionId: string,
): Promise<Record<string, unknown> | undefined> {
  const { Item } = await documentClient.send(
    new GetCommand({ TableName: tableName, Key: { pk: orgPk(orgId), sk: checkoutSk(sessionId) } }),
  );
  return Item;
}

/**
 * Stores the organization's Stripe customer once. When two checkouts race, the first stored id
 * wins and is returned to both.
 */
export async function saveStripeCustomerId(orgId: string, customerId: string): Promise<string> {
  try {
    await documentClient.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: orgPk(orgId), sk: orgMetaSk },
        UpdateExpression: 'SET stripeCustomerId = :customer',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(stripeCustomerId)',
        ExpressionAttributeValues: { ':customer': customerId },
      }),
    );
    return customerId;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
  const { Item } = await documentClient.send(
    new GetCommand({
      TableName: tableName,
      Key: { pk: orgPk(orgId), sk: orgMetaSk },
      ConsistentRead: true,
    }),
  );
  if (!Item) throw new NotFoundError('Organization not found', 'organization_not_found');
  return String(Item.stripeCustomerId);
}

/** Which organization a Stripe PaymentIntent paid for (written when its purchase is credited). */
export async function findOrgByPaymentIntent(
  paymentIntentId: string,
): Promise<{ orgId: string; checkoutSessionId?: string } | undefined> {
  const { Item } = await documentClient.send(
    new GetCommand({
      TableName: tableName,
      Key: { pk: paymentPk(paymentIntentId), sk: paymentSk },
    }),
  );
  if (!Item) return undefined;
  return {
    orgId: String(Item.orgId),
    checkoutSessionId: Item.checkoutSessionId ? String(Item.checkoutSessionId) : undefined,
  };
}
