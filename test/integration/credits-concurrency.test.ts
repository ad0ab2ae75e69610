import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handler as creditLedger } from '#consumers/credit-ledger';
import { handler as usageConsumer } from '#consumers/usage';
import { getCreditBalance, listAllLedgerEntries } from '#data/credits';
import { listAllMemberSpend } from '#data/usage';
import { checkoutSessionEvent } from '#local/payloads/stripe';
import { reconcileOrganization } from '#local/reconcile';
import {
  captureEvents,
  freshId,
  recordCheckout,
  type SeedMember,
  seedOrganization,
  seedTeam,
  sqsBatch,
  stripeWebhookRequest,
  toEventBridgeEvent,
  usageEnvelope,
} from '#test/integration/money-setup';
import { invoke } from '#test/support/api-event';
import { handler as stripeWebhook } from '#webhooks/stripe';

describe('concurrency against DynamoDB Local', () => {
  it('credits a paid session once when it is delivered 50 times concurrently', async () => {
    const { orgId } = await seedTeam();
    const paid = checkoutSessionEvent('checkout.session.completed', {
      id: await recordCheckout(orgId),
      orgId,
      amountSubtotal: 5000,
    });
    const { published, eventBridge } = captureEvents();
    try {
      const responses = await Promise.all(
        Array.from({ length: 50 }, () => invoke(stripeWebhook, stripeWebhookRequest(paid))),
      );
      expect(responses.every((response) => response.statusCode === 200)).toBe(true);
    } finally {
      eventBridge.restore();
    }
    expect(published).toHaveLength(50);

    const results = await Promise.all(
      published.map((entry) => creditLedger(toEventBridgeEvent(entry))),
    );

    expect(results.filter(({ result }) => result === 'applied')).toHaveLength(1);
    expect((await getCreditBalance(orgId)).balanceMicros).toBe(50_000_000);
    expect(await listAllLedgerEntries(orgId)).toHaveLength(1);
    expect((await reconcileOrganization(orgId)).differences).toEqual([]);
  });

  it('charges 1,000 usage events from 20 members, with duplicates, exactly', async () => {
    const members: SeedMember[] = Array.from({ length: 20 }, (_, n) => ({
      userId: freshId(`user${n}`),
      role: n === 0 ? 'owner' : 'member',
      email: `member-${n}@example.com`,
    }));
    const orgId = await seedOrganization(members);

    // 800 distinct usages with varied costs, then 200 redeliveries of some of them.
    const unique = Array.from({ length: 800 }, (_, n) => ({
      usageId: freshId('u'),
      orgId,
      userId: (members[n % 20] as SeedMember).userId,
      costMicros: 1_000 + ((n * 7_919) % 50_000),
    }));
    const deliveries = [...unique, ...unique.filter((_, n) => n % 4 === 0)].map((usage) =>
      usageEnvelope(usage),
    );
    shuffle(deliveries);
    expect(deliveries).toHaveLength(1_000);

    // SQS batches of 10, processed 10 at a time; failed records are redelivered, as SQS would.
    let pending: SQSEvent[] = chunk(deliveries, 10).map((events) => sqsBatch(events));
    for (let round = 0; pending.length > 0 && round < 10; round++) {
      const retry: SQSEvent[] = [];
      for (const group of chunk(pending, 10)) {
        await Promise.all(
          group.map(async (batch) => {
            const { batchItemFailures } = await usageConsumer(batch);
            const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
            const again = batch.Records.filter((record) => failed.has(record.messageId));
            if (again.length > 0) retry.push({ Records: again });
          }),
        );
      }
      pending = retry;
    }
    expect(pending).toEqual([]);

    const expectedTotal = unique.reduce((sum, usage) => sum + usage.costMicros, 0);
    const balance = await getCreditBalance(orgId);
    expect(balance.spentMicros).toBe(expectedTotal);
    expect(balance.balanceMicros).toBe(-expectedTotal);

    const spendByMember = new Map((await listAllMemberSpend(orgId)).map((m) => [m.userId, m]));
    for (const member of members) {
      const expected = unique
        .filter((usage) => usage.userId === member.userId)
        .reduce((sum, usage) => sum + usage.costMicros, 0);
      expect(spendByMember.get(member.userId)?.lifetimeSpentMicros).toBe(expected);
    }
    expect((await reconcileOrganization(orgId)).differences).toEqual([]);
  }, 120_000);
});

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    chunks.push(items.slice(start, start + size));
  }
  return chunks;
}

/** Deterministic shuffle (seeded), so a failure reproduces. */
function shuffle<T>(items: T[]): void {
  let seed = 42;
  for (let i = items.length - 1; i > 0; i--) {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    const j = seed % (i + 1);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
}
