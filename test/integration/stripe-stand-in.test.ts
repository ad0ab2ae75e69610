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

function client(key = 'sk_test_local') {
  const url = new URL(standIn.url);
  return new Stripe(key, { host: url.hostname, port: url.port, protocol: 'http' });
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
});
