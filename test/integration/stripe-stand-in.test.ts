import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StripeStandIn, startStripeStandIn } from '#local/stand-ins/stripe';

let standIn: StripeStandIn;

beforeAll(async () => {
  standIn = await startStripeStandIn();
});

afterAll(async () => {
  await standIn.close();
});

function client(key = 'sk_test_local', options: Stripe.StripeConfig = {}) {
  const url = new URL(standIn.url);
  return new Stripe(key, { host: url.hostname, port: url.port, protocol: 'http', ...options });
}

const sessionParams = (unitAmount: number): Stripe.Checkout.SessionCreateParams => ({
  mode: 'payment',
  client_reference_id: 'org_standin',
  metadata: { orgId: 'org_standin' },
  line_items: [
    {
      quantity: 1,
      price_data: { currency: 'usd', unit_amount: unitAmount, product_data: { name: 'Credits' } },
    },
  ],
  success_url: 'http://localhost/success',
  cancel_url: 'http://localhost/cancel',
});

describe('Stripe API stand-in', () => {
  it('creates and retrieves a Checkout Session through the stripe package', async () => {
    const stripe = client();
    const customer = await stripe.customers.create({ metadata: { orgId: 'org_standin' } });

    const created = await stripe.checkout.sessions.create({
      ...sessionParams(2500),
      customer: customer.id,
    });
    const retrieved = await stripe.checkout.sessions.retrieve(created.id);

    expect(customer.id).toMatch(/^cus_/);
    expect(retrieved).toMatchObject({
      id: created.id,
      object: 'checkout.session',
      amount_subtotal: 2500,
      currency: 'usd',
      customer: customer.id,
      client_reference_id: 'org_standin',
      metadata: { orgId: 'org_standin' },
      payment_status: 'unpaid',
      status: 'open',
    });
  });

  it('replays the first response for a repeated Idempotency-Key and refuses other parameters', async () => {
    const stripe = client();
    const idempotencyKey = `key-${Date.now()}`;

    const first = await stripe.checkout.sessions.create(sessionParams(1000), { idempotencyKey });
    const second = await stripe.checkout.sessions.create(sessionParams(1000), { idempotencyKey });
    const other = stripe.checkout.sessions.create(sessionParams(2000), { idempotencyKey });

    expect(second.id).toBe(first.id);
    await expect(other).rejects.toMatchObject({ type: 'StripeIdempotencyError' });
  });

  it('answers 401 for a missing or malformed key and 404 for an unknown session', async () => {
    await expect(client('not-a-key').customers.create({})).rejects.toMatchObject({
      statusCode: 401,
    });
    await expect(client().checkout.sessions.retrieve('cs_test_missing')).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  it('pays a session with a PaymentIntent carrying the session’s payment_intent_data metadata', async () => {
    const stripe = client();
    const created = await stripe.checkout.sessions.create({
      ...sessionParams(2500),
      payment_intent_data: { metadata: { orgId: 'org_standin' } },
    });

    const paid = standIn.paySession(created.id);
    const intent = await stripe.paymentIntents.retrieve(String(paid.id));
    const session = await stripe.checkout.sessions.retrieve(created.id);

    expect(intent).toMatchObject({
      id: paid.id,
      object: 'payment_intent',
      amount: 2500,
      amount_received: 2500,
      currency: 'usd',
      metadata: { orgId: 'org_standin' },
      status: 'succeeded',
    });
    expect(session).toMatchObject({
      payment_intent: paid.id,
      payment_status: 'paid',
      status: 'complete',
    });
  });

  it('retrieves a registered PaymentIntent and answers resource_missing for an unknown one', async () => {
    standIn.registerPaymentIntent('pi_registered', { metadata: { product: 'other' } });

    const registered = await client().paymentIntents.retrieve('pi_registered');
    const unknown = client().paymentIntents.retrieve('pi_unknown');

    expect(registered.metadata).toEqual({ product: 'other' });
    await expect(unknown).rejects.toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
      type: 'StripeInvalidRequestError',
    });
  });

  it('answers every request with 500 api_error during an outage', async () => {
    standIn.registerPaymentIntent('pi_during_outage');
    standIn.setOutage(true);
    try {
      const stripe = client('sk_test_local', { maxNetworkRetries: 0 });
      await expect(stripe.paymentIntents.retrieve('pi_during_outage')).rejects.toMatchObject({
        statusCode: 500,
        type: 'StripeAPIError',
      });
    } finally {
      standIn.setOutage(false);
    }
    expect((await client().paymentIntents.retrieve('pi_during_outage')).id).toBe(
      'pi_during_outage',
    );
  });
});
