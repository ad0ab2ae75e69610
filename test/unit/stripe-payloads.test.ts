import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import {
  chargeRefundedEvent,
  checkoutCompletedEvent,
  checkoutSession,
  disputeEvent,
  loadStripeFixture,
  signStripePayload,
} from '#local/payloads/stripe';
import { decodeForm } from '#local/stand-ins/stripe';

const secret = 'whsec_unit_test';

describe('Stripe payload builders', () => {
  it('sign payloads the way stripe.webhooks.constructEvent verifies them', () => {
    const payload = JSON.stringify(
      chargeRefundedEvent({ paymentIntentId: 'pi_1', amount: 100, amountRefunded: 100 }),
    );

    const event = Stripe.webhooks.constructEvent(
      payload,
      signStripePayload(payload, secret),
      secret,
    );

    expect(event.type).toBe('charge.refunded');
  });

  it('build checkout sessions with every field Stripe’s published example has', () => {
    const example = loadStripeFixture('checkout.session');
    // Absent fixtures are reported once for the whole run (test/support/global-setup.ts).
    if (!example) return;
    const ours = checkoutSession({ orgId: 'org_abcdef', amountSubtotal: 5000 });
    const needed = [
      'id',
      'object',
      'amount_subtotal',
      'amount_total',
      'client_reference_id',
      'currency',
      'customer',
      'metadata',
      'mode',
      'payment_intent',
      'payment_status',
      'status',
    ];
    for (const field of needed) {
      expect(Object.keys(example)).toContain(field);
      expect(Object.keys(ours)).toContain(field);
    }
  });

  it('build refund and dispute objects with the fields Stripe’s examples name', () => {
    const charge = loadStripeFixture('charge');
    const dispute = loadStripeFixture('dispute');
    if (!charge || !dispute) return;
    const refunded = chargeRefundedEvent({
      paymentIntentId: 'pi_1',
      amount: 100,
      amountRefunded: 40,
    });
    const disputed = disputeEvent('charge.dispute.closed', {
      paymentIntentId: 'pi_1',
      amount: 100,
      status: 'lost',
    });
    const objectOf = (event: Record<string, unknown>) =>
      (event.data as { object: Record<string, unknown> }).object;
    for (const field of Object.keys(objectOf(refunded))) {
      expect(Object.keys(charge)).toContain(field);
    }
    for (const field of Object.keys(objectOf(disputed))) {
      expect(Object.keys(dispute)).toContain(field);
    }
  });

  it('prefer Stripe’s published example for checkout.session.completed when it is present', () => {
    const { event, source } = checkoutCompletedEvent({
      orgId: 'org_abcdef',
      amountSubtotal: 5000,
      id: 'cs_test_demo',
    });
    const session = (event.data as { object: Record<string, unknown> }).object;

    expect(source).toBe(loadStripeFixture('checkout.session') ? 'stripe-fixture' : 'builder');
    expect(session).toMatchObject({
      id: 'cs_test_demo',
      client_reference_id: 'org_abcdef',
      metadata: { orgId: 'org_abcdef' },
      amount_subtotal: 5000,
      currency: 'usd',
      payment_status: 'paid',
    });
  });
});

describe('Stripe stand-in form decoding', () => {
  it('turns bracketed keys into nested objects and arrays', () => {
    const form = new URLSearchParams({
      mode: 'payment',
      'metadata[orgId]': 'org_abcdef',
      'line_items[0][quantity]': '1',
      'line_items[0][price_data][unit_amount]': '5000',
      'line_items[0][price_data][product_data][name]': '50 credits',
    }).toString();

    expect(decodeForm(form)).toEqual({
      mode: 'payment',
      metadata: { orgId: 'org_abcdef' },
      line_items: [
        {
          quantity: '1',
          price_data: { unit_amount: '5000', product_data: { name: '50 credits' } },
        },
      ],
    });
  });
});
