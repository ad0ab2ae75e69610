import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { listCreditTransactions } from '#api/credits';
import { handler as creditLedger } from '#consumers/credit-ledger';
import { handler as usageConsumer } from '#consumers/usage';
import { balanceSk, orgPk } from '#data/keys';
import { tableName } from '#data/table';
import { reconcileOrganization } from '#local/reconcile';
import { documentClient } from '#platform/aws-clients';
import {
  freshId,
  recordCheckout,
  seedTeam,
  sqsBatch,
  toEventBridgeEvent,
  usageEnvelope,
} from '#test/integration/money-setup';
import { apiEvent, invoke } from '#test/support/api-event';

function transactions(orgId: string, userId: string, query: Record<string, string> = {}) {
  return invoke(
    listCreditTransactions,
    apiEvent({
      method: 'GET',
      path: `/api/organizations/${orgId}/credits/transactions`,
      params: { orgId },
      query,
      userId,
    }),
  );
}

async function purchase(orgId: string, amountMicros: number, paymentIntentId?: string) {
  const checkoutSessionId = await recordCheckout(orgId, { amountUsd: amountMicros / 1_000_000 });
  await creditLedger(
    toEventBridgeEvent({
      Source: 'payments',
      DetailType: 'CreditPurchasePaid',
      Detail: JSON.stringify({
        eventId: freshId('ev'),
        orgId,
        checkoutSessionId,
        amountMicros,
        currency: 'usd',
        amountMinor: amountMicros / 10_000,
        paymentIntentId,
        stripeEventId: freshId('evt'),
        occurredAt: new Date().toISOString(),
      }),
    }),
  );
}

describe('GET /api/organizations/{orgId}/credits/transactions', () => {
  it('lists purchase, usage and refund entries newest first, page by page', async () => {
    const { orgId, admin, member } = await seedTeam();
    const paymentIntentId = freshId('pi');
    await purchase(orgId, 50_000_000, paymentIntentId);
    await usageConsumer(
      sqsBatch([
        usageEnvelope({
          usageId: freshId('u'),
          orgId,
          userId: member.userId,
          costMicros: 1_500_000,
        }),
      ]),
    );
    await creditLedger(
      toEventBridgeEvent({
        Source: 'payments',
        DetailType: 'CreditPurchaseReversed',
        Detail: JSON.stringify({
          eventId: freshId('ev'),
          orgId,
          reason: 'refund',
          reversalId: `charge:${freshId('ch')}`,
          paymentIntentId,
          amountMicros: 10_000_000,
          stripeEventId: freshId('evt'),
          occurredAt: new Date().toISOString(),
        }),
      }),
    );

    const kinds: [string, number, string][] = [];
    let cursor: string | undefined;
    do {
      const page = await transactions(orgId, admin.userId, {
        limit: '1',
        ...(cursor ? { cursor } : {}),
      });
      expect(page.statusCode).toBe(200);
      expect(page.body.transactions.length).toBeLessThanOrEqual(1);
      for (const entry of page.body.transactions) {
        kinds.push([entry.kind, entry.amountMicros, entry.amountUsd]);
      }
      cursor = page.body.cursor ?? undefined;
    } while (cursor);

    expect(kinds).toEqual([
      ['refund', -10_000_000, '-10.00'],
      ['usage', -1_500_000, '-1.50'],
      ['purchase', 50_000_000, '50.00'],
    ]);
    expect((await reconcileOrganization(orgId)).differences).toEqual([]);
  });

  it('is 403 for a plain member', async () => {
    const { orgId, member } = await seedTeam();

    expect((await transactions(orgId, member.userId)).statusCode).toBe(403);
  });
});

describe('reconcile', () => {
  it('reports a balance that drifted from its ledger', async () => {
    const { orgId } = await seedTeam();
    await purchase(orgId, 20_000_000);
    // Simulate a write that bypassed the ledger.
    await documentClient.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: orgPk(orgId),
          sk: balanceSk,
          entity: 'CreditBalance',
          orgId,
          balanceMicros: 25_000_000,
          purchasedMicros: 20_000_000,
        },
      }),
    );

    const report = await reconcileOrganization(orgId);

    expect(report.ok).toBe(false);
    expect(report.differences).toEqual(['balance vs sum of ledger entries: 25000000 != 20000000']);
  });
});
