import { afterEach, describe, expect, it, vi } from 'vitest';
import { metricsCatalogue } from '#catalogue/metrics';
import { handler as creditLedger } from '#consumers/credit-ledger';
import { handler as usageConsumer } from '#consumers/usage';
import { metrics } from '#platform/metrics';
import {
  freshId,
  recordCheckout,
  seedTeam,
  sqsBatch,
  toEventBridgeEvent,
  usageEnvelope,
} from '#test/integration/money-setup';

const { names } = metricsCatalogue;

afterEach(() => {
  vi.restoreAllMocks();
});

/** The amounts recorded under `name` while `act` runs, and whether they were flushed. */
async function recorded(name: string, act: () => Promise<unknown>) {
  const add = vi.spyOn(metrics, 'addMetric');
  const publish = vi.spyOn(metrics, 'publishStoredMetrics');
  await act();
  return {
    values: add.mock.calls.filter(([metric]) => metric === name).map(([, , value]) => value),
    published: publish.mock.calls.length,
  };
}

function purchasePaid(orgId: string, checkoutSessionId: string, amountMicros: number) {
  return toEventBridgeEvent({
    Source: 'payments',
    DetailType: 'CreditPurchasePaid',
    Detail: JSON.stringify({
      eventId: freshId('ev'),
      orgId,
      checkoutSessionId,
      amountMicros,
      currency: 'usd',
      amountMinor: amountMicros / 10_000,
      stripeEventId: freshId('evt'),
      occurredAt: new Date().toISOString(),
    }),
  });
}

describe('business metrics', () => {
  it('counts purchased credits once when the same session is delivered twice', async () => {
    const { orgId } = await seedTeam();
    const session = await recordCheckout(orgId);

    const { values, published } = await recorded(names.creditsPurchasedMicros, async () => {
      await creditLedger(purchasePaid(orgId, session, 50_000_000));
      await creditLedger(purchasePaid(orgId, session, 50_000_000));
    });

    expect(values).toEqual([50_000_000]);
    expect(published).toBe(1);
  });

  it('counts usage charged only for usage ids not charged before', async () => {
    const { orgId, member } = await seedTeam();
    const at = '2026-03-15T10:00:00.000Z';
    const first = usageEnvelope({
      usageId: freshId('u'),
      orgId,
      userId: member.userId,
      costMicros: 1_250_000,
      occurredAt: at,
    });
    await usageConsumer(sqsBatch([first]));
    const second = usageEnvelope({
      usageId: freshId('u'),
      orgId,
      userId: member.userId,
      costMicros: 333_333,
      occurredAt: at,
    });

    const { values, published } = await recorded(names.usageChargedMicros, () =>
      usageConsumer(sqsBatch([first, second])),
    );

    expect(values).toEqual([333_333]);
    expect(published).toBe(1);
  });
});
