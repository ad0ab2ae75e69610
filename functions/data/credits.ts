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
import { cappedReversal, type LedgerEntryKind, purchaseKey, reversalKey } from '#domain/credits';
import { microsPerDollar } from '#domain/money';
import { documentClient } from '#platform/aws-clients';
import { NotFoundError } from '#platform/errors';
import { logger } from '#platform/logger';

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

/** `unknown_session`: no Checkout Session of that organization was recorded by our checkout. */
export type GrantResult = ApplyResult | 'unknown_session' | 'payment_already_linked';

/**
 * Grants a paid Checkout Session's credits once (marker `purchase:<sessionId>`), marks the
 * recorded session paid, and links its PaymentIntent to the organization for later refunds and
 * disputes. The same transaction requires the session our checkout recorded for that
 * organization: a signed event for a session we never created (another integration on the same
 * Stripe account, a replay aimed at another organization) credits nothing.
 */
export async function grantPurchasedCredits(
  detail: EventDetail<'CreditPurchasePaid'>,
): Promise<GrantResult> {
  // First try expects the recorded amount, so the usual purchase is one round trip; only an
  // unknown session or a different amount costs a read (and the amount is still credited).
  const first = await transactWithRetry(grantItems(detail, { expectRecordedAmount: true }));
  if (first.ok) return 'applied';
  if (first.failedConditions.includes(0)) return 'duplicate';
  if (!first.failedConditions.includes(sessionItem)) return explainGrantFailure(detail, first);

  const recorded = await getCheckoutSession(detail.orgId, detail.checkoutSessionId, true);
  if (!recorded) {
    logger.warn('Paid session is not a checkout of this organization; not credited', {
      checkoutSessionId: detail.checkoutSessionId,
    });
    return 'unknown_session';
  }
  // Stripe's subtotal is what was paid (e.g. a promotion code); it is credited, but say so.
  logger.warn('Credited amount differs from the recorded checkout amount', {
    checkoutSessionId: detail.checkoutSessionId,
    recordedUsd: recorded.amountUsd,
    creditedMicros: detail.amountMicros,
  });
  const second = await transactWithRetry(grantItems(detail, { expectRecordedAmount: false }));
  if (second.ok) return 'applied';
  if (second.failedConditions.includes(0)) return 'duplicate';
  if (second.failedConditions.includes(sessionItem)) return 'unknown_session';
  return explainGrantFailure(detail, second);
}

/** Index of the checkout session's update in `grantItems`. */
const sessionItem = 3;

function grantItems(
  detail: EventDetail<'CreditPurchasePaid'>,
  options: { expectRecordedAmount: boolean },
): TransactItem[] {
  const now = new Date().toISOString();
  const key = purchaseKey(detail.checkoutSessionId);
  const wholeDollars = detail.amountMicros % microsPerDollar === 0;
  const matchAmount = options.expectRecordedAmount && wholeDollars;
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
        UpdateExpression: 'SET #status = :paid, paidAt = :now, creditedMicros = :amount',
        // The session must be one this organization recorded (and, first, for this amount).
        ConditionExpression: matchAmount
          ? 'attribute_exists(pk) AND amountUsd = :usd'
          : 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':paid': 'paid',
          ':now': now,
          ':amount': detail.amountMicros,
          ...(matchAmount ? { ':usd': detail.amountMicros / microsPerDollar } : {}),
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
          creditedMicros: detail.amountMicros,
          reversedMicros: 0,
          currency: detail.currency,
          chargedMinor: detail.chargedMinor ?? detail.amountMinor,
        },
        // Never reset another purchase's reversedMicros.
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    });
  }
  return items;
}

function explainGrantFailure(
  detail: EventDetail<'CreditPurchasePaid'>,
  outcome: { failedConditions: number[] },
): GrantResult {
  if (outcome.failedConditions.includes(4)) {
    logger.error('PaymentIntent already linked to another purchase; not credited', {
      checkoutSessionId: detail.checkoutSessionId,
      paymentIntentId: detail.paymentIntentId,
    });
    return 'payment_already_linked';
  }
  throw new Error(`Unexpected condition failure at ${outcome.failedConditions.join(',')}`);
}

/**
 * `unknown_payment`: no purchase of that organization was credited through this PaymentIntent.
 * `capped`: the payment has already given back everything it credited.
 */
export type RevokeResult = ApplyResult | 'unknown_payment' | 'capped';

/**
 * Revokes credits for a refund or lost dispute. `amountMicros` is the total reversed so far
 * under `reversalId` (Stripe reports refunds cumulatively per charge), so the marker keeps what
 * was applied and only the increase is revoked: duplicates and stale, out-of-order events
 * change nothing. Whatever the reversals report, a payment never gives back more than it
 * credited: its PaymentLink counts `reversedMicros`, updated in the same transaction under
 * optimistic concurrency (a refund and a dispute of one payment racing each other re-read).
 */
export async function revokeCredits(
  detail: EventDetail<'CreditPurchaseReversed'>,
): Promise<RevokeResult> {
  const key = reversalKey(detail.reversalId);
  const kind: LedgerEntryKind = detail.reason === 'refund' ? 'refund' : 'dispute';
  const total = kind === 'refund' ? 'refundedMicros' : 'disputedMicros';
  const paymentIntentId = detail.paymentIntentId;

  for (let attempt = 0; attempt < 10; attempt++) {
    const [marker, payment] = await Promise.all([
      getMarker(detail.orgId, key),
      paymentIntentId ? getPaymentLink(paymentIntentId) : undefined,
    ]);
    if (!paymentIntentId || !payment || payment.orgId !== detail.orgId) {
      logger.warn('Reversal of a payment this organization was not credited for; ignored', {
        reversalId: detail.reversalId,
      });
      return 'unknown_payment';
    }
    const applied = Number(marker?.appliedMicros ?? 0);
    const wanted = detail.amountMicros - applied;
    if (wanted <= 0) return 'duplicate';
    const revoked = cappedReversal(wanted, payment);
    if (revoked === 0) {
      logger.warn('Reversal exceeds what the payment credited; capped', {
        reversalId: detail.reversalId,
        wantedMicros: wanted,
      });
      return 'capped';
    }

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
            amountMicros: -revoked,
            createdAt: now,
            idempotencyKey: `${key}@${detail.amountMicros}`,
            checkoutSessionId: payment.checkoutSessionId,
            reversalId: detail.reversalId,
            stripeEventId: detail.stripeEventId,
          }),
        },
      },
      balanceUpdate(detail.orgId, { balanceMicros: -revoked, [total]: revoked }, now),
      {
        Update: {
          TableName: tableName,
          Key: { pk: paymentPk(paymentIntentId), sk: paymentSk },
          UpdateExpression: 'SET reversedMicros = :new',
          ConditionExpression:
            payment.reversedMicros === 0
              ? 'attribute_not_exists(reversedMicros) OR reversedMicros = :old'
              : 'reversedMicros = :old',
          ExpressionAttributeValues: {
            ':new': payment.reversedMicros + revoked,
            ':old': payment.reversedMicros,
          },
        },
      },
    ]);
    if (outcome.ok) {
      if (revoked < wanted) {
        logger.warn('Reversal exceeds what the payment credited; capped', {
          reversalId: detail.reversalId,
          wantedMicros: wanted,
          revokedMicros: revoked,
        });
      }
      return 'applied';
    }
    // Another delivery moved the marker or the payment's reversed total first: read again.
  }
  throw new Error('Reversal kept conflicting with concurrent deliveries');
}

export type CloseResult = 'applied' | 'unchanged';

/**
 * Where a recorded session may move from: statuses only go forward (open, then unpaid while an
 * asynchronous payment settles, then failed) and `paid` is final, so redelivered or out-of-order
 * events never move a paid session back.
 */
const closedFrom: Record<EventDetail<'CheckoutSessionClosed'>['status'], string[]> = {
  unpaid: ['open'],
  expired: ['open', 'unpaid'],
  payment_failed: ['open', 'unpaid'],
};

/** Records how a checkout ended without money; idempotent (a conditional update). */
export async function closeCheckoutSession(
  detail: EventDetail<'CheckoutSessionClosed'>,
): Promise<CloseResult> {
  const from = closedFrom[detail.status];
  const values: Record<string, unknown> = {
    ':status': detail.status,
    ':at': detail.occurredAt,
    ':event': detail.stripeEventId,
  };
  from.forEach((status, index) => {
    values[`:from${index}`] = status;
  });
  try {
    await documentClient.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: orgPk(detail.orgId), sk: checkoutSk(detail.checkoutSessionId) },
        UpdateExpression: 'SET #status = :status, closedAt = :at, closedByEventId = :event',
        ConditionExpression: `attribute_exists(pk) AND #status IN (${from
          .map((_, index) => `:from${index}`)
          .join(', ')})`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: values,
      }),
    );
    return 'applied';
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return 'unchanged';
    throw error;
  }
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
  consistent = false,
): Promise<Record<string, unknown> | undefined> {
  const { Item } = await documentClient.send(
    new GetCommand({
      TableName: tableName,
      Key: { pk: orgPk(orgId), sk: checkoutSk(sessionId) },
      ConsistentRead: consistent,
    }),
  );
  return Item;
}

/** Whether the organization ever started a checkout (only its recorded sessions are credited). */
export async function hasRecordedCheckout(orgId: string): Promise<boolean> {
  const { Items } = await documentClient.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': orgPk(orgId), ':prefix': checkoutSk('') },
      ProjectionExpression: 'pk',
      Limit: 1,
    }),
  );
  return (Items ?? []).length > 0;
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

export interface PaymentLink {
  orgId: string;
  checkoutSessionId?: string;
  /** Credits the purchase granted, and how many of them refunds and disputes took back. */
  creditedMicros: number;
  reversedMicros: number;
  /** The charge's currency (the buyer's, with Adaptive Pricing) and amount in its minor units. */
  currency?: string;
  chargedMinor?: number;
}

/** Which organization a Stripe PaymentIntent paid for (written when its purchase is credited). */
export async function getPaymentLink(paymentIntentId: string): Promise<PaymentLink | undefined> {
  const { Item } = await documentClient.send(
    new GetCommand({
      TableName: tableName,
      Key: { pk: paymentPk(paymentIntentId), sk: paymentSk },
      ConsistentRead: true,
    }),
  );
  if (!Item) return undefined;
  return {
    orgId: String(Item.orgId),
    checkoutSessionId: Item.checkoutSessionId ? String(Item.checkoutSessionId) : undefined,
    creditedMicros: Number(Item.creditedMicros ?? 0),
    reversedMicros: Number(Item.reversedMicros ?? 0),
    currency: Item.currency ? String(Item.currency) : undefined,
    chargedMinor: Item.chargedMinor === undefined ? undefined : Number(Item.chargedMinor),
  };
}
