import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getCreditBalance as getBalanceRoute } from '#api/credits';
import { handler as creditLedger } from '#consumers/credit-ledger';
import { getCheckoutSession, getCreditBalance } from '#data/credits';
import {
  chargeRefundedEvent,
  checkoutCompletedFromFixture,
  checkoutSessionEvent,
  disputeEvent,
  type SessionOptions,
  stripeEvent,
  stripeId,
} from '#local/payloads/stripe';
import { reconcileOrganization } from '#local/reconcile';
import { type StripeStandIn, startStripeStandIn } from '#local/stand-ins/stripe';
import {
  captureEvents,
  recordCheckout,
  seedTeam,
  stripeWebhookRequest,
  toEventBridgeEvent,
} from '#test/integration/money-setup';
import { apiEvent, invoke } from '#test/support/api-event';
import { handler as stripeWebhook } from '#webhooks/stripe';

let capture: ReturnType<typeof captureEvents>;
let published: ReturnType<typeof captureEvents>['published'];
let stripe: StripeStandIn;
const orgsToReconcile: string[] = [];

// The webhook asks Stripe whose payment a refund of an uncredited purchase reverses.
beforeAll(async () => {
  stripe = await startStripeStandIn();
  process.env.STRIPE_API_BASE = stripe.url;
});

afterAll(async () => {
  await stripe.close();
});

beforeEach(() => {
  capture = captureEvents();
  published = capture.published;
});

afterEach(async () => {
  capture.eventBridge.restore();
  for (const orgId of orgsToReconcile.splice(0)) {
    expect((await reconcileOrganization(orgId)).differences).toEqual([]);
  }
});

/** Posts a signed event and delivers whatever it published to the credit ledger. */
async function deliver(payload: object, options: { base64?: boolean } = {}) {
  const before = published.length;
  const response = await invoke(stripeWebhook, stripeWebhookRequest(payload, options));
  const newEntries = published.slice(before);
  for (const entry of newEntries) await creditLedger(toEventBridgeEvent(entry));
  return { response, entries: newEntries };
}

async function newOrg() {
  const team = await seedTeam();
  orgsToReconcile.push(team.orgId);
  return team;
}

/** A paid session of a checkout the organization recorded (only those are credited). */
async function paid(orgId: string, extra: Partial<SessionOptions> = {}): Promise<SessionOptions> {
  const id = await recordCheckout(orgId, { sessionId: extra.id });
  return { orgId, amountSubtotal: 5000, paymentStatus: 'paid', ...extra, id };
}

describe('Stripe webhook: purchases', () => {
  it('credits a paid checkout.session.completed with the session subtotal', async () => {
    const { orgId, member } = await newOrg();

    const { response, entries } = await deliver(
      checkoutSessionEvent('checkout.session.completed', await paid(orgId)),
    );

    expect(response.statusCode).toBe(200);
    expect(entries.map((entry) => [entry.Source, entry.DetailType])).toEqual([
      ['payments', 'CreditPurchasePaid'],
    ]);
    const balance = await invoke(
      getBalanceRoute,
      apiEvent({
        method: 'GET',
        path: `/api/organizations/${orgId}/credits`,
        params: { orgId },
        userId: member.userId,
      }),
    );
    expect(balance.body).toMatchObject({
      balanceMicros: 50_000_000,
      balanceUsd: '50.00',
      purchasedMicros: 50_000_000,
    });
    const sessionId = JSON.parse(String(entries[0]?.Detail)).checkoutSessionId;
    expect(await getCheckoutSession(orgId, sessionId)).toMatchObject({
      status: 'paid',
      creditedMicros: 50_000_000,
    });
  });

  it('credits a session once when Stripe delivers the same event three times', async () => {
    const { orgId } = await newOrg();
    const event = checkoutSessionEvent('checkout.session.completed', await paid(orgId));

    await deliver(event);
    await deliver(event);
    const third = await deliver(event);

    expect(third.response.statusCode).toBe(200);
    expect(third.entries).toHaveLength(1);
    expect((await getCreditBalance(orgId)).balanceMicros).toBe(50_000_000);
  });

  it('credits once when completed(paid) and async_payment_succeeded both arrive, in either order', async () => {
    const { orgId } = await newOrg();
    const sessionId = stripeId('cs_test', 58);
    const paymentIntentId = stripeId('pi');
    const options = await paid(orgId, { id: sessionId, paymentIntentId });

    await deliver(checkoutSessionEvent('checkout.session.async_payment_succeeded', options));
    await deliver(checkoutSessionEvent('checkout.session.completed', options));

    expect((await getCreditBalance(orgId)).balanceMicros).toBe(50_000_000);
  });

  it('credits nothing for an unpaid completed session, then credits when the async payment succeeds', async () => {
    const { orgId } = await newOrg();
    const sessionId = stripeId('cs_test', 58);

    const unpaid = await deliver(
      checkoutSessionEvent('checkout.session.completed', {
        ...(await paid(orgId, { id: sessionId })),
        paymentStatus: 'unpaid',
      }),
    );
    expect(unpaid.response.statusCode).toBe(200);
    expect(unpaid.entries.map((entry) => entry.DetailType)).toEqual(['CheckoutSessionClosed']);
    expect((await getCreditBalance(orgId)).balanceMicros).toBe(0);

    await deliver(
      checkoutSessionEvent(
        'checkout.session.async_payment_succeeded',
        await paid(orgId, { id: sessionId }),
      ),
    );
    expect((await getCreditBalance(orgId)).balanceMicros).toBe(50_000_000);
  });

  it.each([
    ['checkout.session.async_payment_failed', 'unpaid', ['CheckoutSessionClosed']],
    ['checkout.session.expired', 'unpaid', ['CheckoutSessionClosed']],
    ['checkout.session.completed', 'no_payment_required', []],
  ] as const)('acknowledges %s (%s) and credits nothing', async (type, paymentStatus, types) => {
    const { orgId } = await newOrg();

    const { response, entries } = await deliver(
      checkoutSessionEvent(type, { ...(await paid(orgId)), paymentStatus }),
    );

    expect(response.statusCode).toBe(200);
    expect(entries.map((entry) => entry.DetailType)).toEqual(types);
    expect((await getCreditBalance(orgId)).balanceMicros).toBe(0);
  });

  it('converts with the currency exponent and credits only USD', async () => {
    const { orgId } = await newOrg();

    const jpy = await deliver(
      checkoutSessionEvent('checkout.session.completed', await paid(orgId, { currency: 'jpy' })),
    );
    expect(jpy.response.statusCode).toBe(200);
    expect(jpy.entries).toHaveLength(0);

    await deliver(
      checkoutSessionEvent(
        'checkout.session.completed',
        await paid(orgId, { amountSubtotal: 1234 }),
      ),
    );
    expect((await getCreditBalance(orgId)).balanceMicros).toBe(12_340_000);
  });

  it('credits the pre-tax subtotal, not the total the buyer paid', async () => {
    const { orgId } = await newOrg();

    await deliver(
      checkoutSessionEvent(
        'checkout.session.completed',
        await paid(orgId, { amountSubtotal: 5000, amountTotal: 5450 }),
      ),
    );

    expect((await getCreditBalance(orgId)).balanceMicros).toBe(50_000_000);
  });

  it('verifies the signature on base64-encoded bodies too', async () => {
    const { orgId } = await newOrg();

    const { response } = await deliver(
      checkoutSessionEvent('checkout.session.completed', await paid(orgId)),
      { base64: true },
    );

    expect(response.statusCode).toBe(200);
    expect((await getCreditBalance(orgId)).balanceMicros).toBe(50_000_000);
  });

  it('rejects a bad signature with 400 and publishes nothing', async () => {
    const { orgId } = await newOrg();
    const event = checkoutSessionEvent('checkout.session.completed', await paid(orgId));

    const forged = await invoke(
      stripeWebhook,
      stripeWebhookRequest(event, { secret: 'whsec_someone_else' }),
    );
    const tampered = stripeWebhookRequest(event);
    tampered.body = String(tampered.body).replace('5000', '9000');
    const tamperedResponse = await invoke(stripeWebhook, tampered);

    expect(forged.statusCode).toBe(400);
    expect(forged.body.error.code).toBe('invalid_signature');
    expect(tamperedResponse.statusCode).toBe(400);
    expect(published).toHaveLength(0);
  });

  it('acknowledges unknown event types and ignores them', async () => {
    const { response, entries } = await deliver(
      stripeEvent('customer.created', { id: stripeId('cus'), object: 'customer' }),
    );

    expect(response.statusCode).toBe(200);
    expect(entries).toHaveLength(0);
  });

  it('credits an event built from Stripe’s published checkout.session example', async () => {
    const { orgId } = await newOrg();
    const event = checkoutCompletedFromFixture(await paid(orgId, { id: stripeId('cs_test', 58) }));
    // Absent fixtures are reported once for the whole run (test/support/global-setup.ts).
    if (!event) return;

    await deliver(event);

    expect((await getCreditBalance(orgId)).balanceMicros).toBe(50_000_000);
  });
});

describe('Stripe webhook: refunds and disputes', () => {
  async function purchased(amountSubtotal = 5000) {
    const team = await newOrg();
    const paymentIntentId = stripeId('pi');
    await deliver(
      checkoutSessionEvent(
        'checkout.session.completed',
        await paid(team.orgId, { amountSubtotal, paymentIntentId }),
      ),
    );
    return { ...team, paymentIntentId, chargeId: stripeId('ch') };
  }

  it('revokes a full refund once, however often charge.refunded arrives', async () => {
    const { orgId, paymentIntentId, chargeId } = await purchased();
    const refund = chargeRefundedEvent({
      id: chargeId,
      orgId,
      paymentIntentId,
      amount: 5000,
      amountRefunded: 5000,
      refunds: [{ amount: 5000 }],
    });

    await deliver(refund);
    await deliver(refund);

    const balance = await getCreditBalance(orgId);
    expect(balance.balanceMicros).toBe(0);
    expect(balance.refundedMicros).toBe(50_000_000);
  });

  it('revokes several partial refunds by their cumulative amount, even out of order', async () => {
    const { orgId, paymentIntentId, chargeId } = await purchased();
    const refunded = (amountRefunded: number) =>
      chargeRefundedEvent({ id: chargeId, orgId, paymentIntentId, amount: 5000, amountRefunded });

    await deliver(refunded(1000));
    await deliver(refunded(3500)); // second refund of 25.00
    await deliver(refunded(1000)); // a late redelivery of the first
    await deliver(refunded(3500));

    const balance = await getCreditBalance(orgId);
    expect(balance.refundedMicros).toBe(35_000_000);
    expect(balance.balanceMicros).toBe(15_000_000);
  });

  it('finds the organization through the payment when the charge carries no metadata', async () => {
    const { orgId, paymentIntentId, chargeId } = await purchased();

    await deliver(
      chargeRefundedEvent({ id: chargeId, paymentIntentId, amount: 5000, amountRefunded: 2000 }),
    );

    expect((await getCreditBalance(orgId)).balanceMicros).toBe(30_000_000);
  });

  it('acknowledges a refund of a payment Stripe does not know and changes nothing', async () => {
    const { response, entries } = await deliver(
      chargeRefundedEvent({ paymentIntentId: stripeId('pi'), amount: 700, amountRefunded: 700 }),
    );

    expect(response.statusCode).toBe(200);
    expect(entries).toHaveLength(0);
  });

  it('a refund that arrives before its purchase is retried (503) and ends at the right balance', async () => {
    const { orgId } = await newOrg();
    const paymentIntentId = stripeId('pi');
    const session = await paid(orgId, { paymentIntentId });
    stripe.registerPaymentIntent(paymentIntentId, { metadata: { orgId } });
    const refund = chargeRefundedEvent({
      orgId,
      paymentIntentId,
      amount: 5000,
      amountRefunded: 2000,
      created: Math.floor(Date.now() / 1000) - 2 * 3600,
    });

    expect((await deliver(refund)).response.statusCode).toBe(503);
    await deliver(checkoutSessionEvent('checkout.session.completed', session));
    expect((await deliver(refund)).response.statusCode).toBe(200);

    expect((await getCreditBalance(orgId)).balanceMicros).toBe(30_000_000);
  });

  it('leaves the balance alone while a dispute is open and when it is won', async () => {
    const { orgId, paymentIntentId } = await purchased();
    const disputeId = stripeId('dp');
    const dispute = (
      type: 'charge.dispute.created' | 'charge.dispute.closed',
      status: 'needs_response' | 'won',
    ) => disputeEvent(type, { id: disputeId, paymentIntentId, amount: 5000, status });

    const created = await deliver(dispute('charge.dispute.created', 'needs_response'));
    const won = await deliver(dispute('charge.dispute.closed', 'won'));

    expect(created.entries).toHaveLength(0);
    expect(won.entries).toHaveLength(0);
    expect((await getCreditBalance(orgId)).balanceMicros).toBe(50_000_000);
  });

  it('revokes a lost dispute once', async () => {
    const { orgId, paymentIntentId } = await purchased();
    const lost = disputeEvent('charge.dispute.closed', {
      paymentIntentId,
      amount: 5000,
      status: 'lost',
    });

    await deliver(lost);
    await deliver(lost);

    const balance = await getCreditBalance(orgId);
    expect(balance.balanceMicros).toBe(0);
    expect(balance.disputedMicros).toBe(50_000_000);
  });

  it('publishes a refund as CreditPurchaseReversed keyed by the charge, with a stable event id', async () => {
    const { orgId, paymentIntentId, chargeId } = await purchased();
    const refund = chargeRefundedEvent({
      id: chargeId,
      paymentIntentId,
      amount: 5000,
      amountRefunded: 5000,
      orgId,
    });

    const first = await deliver(refund);
    const again = await deliver(refund);

    expect(JSON.parse(String(first.entries[0]?.Detail))).toMatchObject({
      eventId: `stripe:${refund.id}`,
      orgId,
      reason: 'refund',
      reversalId: `charge:${chargeId}`,
      amountMicros: 50_000_000,
      paymentIntentId,
    });
    expect(again.entries[0]?.Detail).toBe(first.entries[0]?.Detail);
  });
});
