import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCheckout, getCreditBalance } from '#api/credits';
import { checkoutSk, orgMetaSk, orgPk } from '#data/keys';
import { tableName } from '#data/table';
import { reconcileOrganization } from '#local/reconcile';
import { type StripeStandIn, startStripeStandIn } from '#local/stand-ins/stripe';
import { documentClient } from '#platform/aws-clients';
import { freshId, seedTeam } from '#test/integration/money-setup';
import { apiEvent, invoke } from '#test/support/api-event';

let stripe: StripeStandIn;
const orgsToReconcile: string[] = [];

beforeAll(async () => {
  stripe = await startStripeStandIn();
  process.env.STRIPE_API_BASE = stripe.url;
});

afterAll(async () => {
  await stripe.close();
});

afterEach(async () => {
  for (const orgId of orgsToReconcile.splice(0)) {
    expect((await reconcileOrganization(orgId)).differences).toEqual([]);
  }
});

function checkout(orgId: string, userId: string, body: unknown, headers?: Record<string, string>) {
  return invoke(
    createCheckout,
    apiEvent({
      method: 'POST',
      path: `/api/organizations/${orgId}/credits/checkout`,
      params: { orgId },
      userId,
      body,
      headers,
    }),
  );
}

async function getItem(pk: string, sk: string) {
  const { Item } = await documentClient.send(
    new GetCommand({ TableName: tableName, Key: { pk, sk } }),
  );
  return Item;
}

describe('POST /api/organizations/{orgId}/credits/checkout', () => {
  it('creates a USD Checkout Session carrying the organization id and records it as open', async () => {
    const { orgId, admin } = await seedTeam();
    orgsToReconcile.push(orgId);

    const response = await checkout(orgId, admin.userId, { amountUsd: 50 });

    expect(response.statusCode).toBe(201);
    expect(response.body.amountUsd).toBe(50);
    expect(response.body.url).toBe(`${stripe.url}/c/pay/${response.body.sessionId}`);
    const session = stripe.sessions.get(response.body.sessionId);
    expect(session).toMatchObject({
      amount_subtotal: 5000,
      currency: 'usd',
      client_reference_id: orgId,
      metadata: { orgId, createdBy: admin.userId },
      mode: 'payment',
    });
    const meta = await getItem(orgPk(orgId), orgMetaSk);
    expect(session?.customer).toBe(meta?.stripeCustomerId);
    const recorded = await getItem(orgPk(orgId), checkoutSk(response.body.sessionId));
    expect(recorded).toMatchObject({ status: 'open', amountUsd: 50, createdBy: admin.userId });
  });

  it('reuses the organization’s Stripe customer across checkouts and buyers', async () => {
    const { orgId, admin, owner } = await seedTeam();

    const first = await checkout(orgId, admin.userId, { amountUsd: 10 });
    const second = await checkout(orgId, owner.userId, { amountUsd: 20 });

    const customerOf = (id: string) => stripe.sessions.get(id)?.customer;
    expect(customerOf(second.body.sessionId)).toBe(customerOf(first.body.sessionId));
    const customersForOrg = [...stripe.customers.values()].filter(
      (customer) => (customer.metadata as Record<string, string>).orgId === orgId,
    );
    expect(customersForOrg).toHaveLength(1);
  });

  it('returns the same session when the same checkout is submitted twice', async () => {
    const { orgId, admin } = await seedTeam();

    const [first, second] = await Promise.all([
      checkout(orgId, admin.userId, { amountUsd: 75 }),
      checkout(orgId, admin.userId, { amountUsd: 75 }),
    ]);

    expect(first.statusCode).toBe(201);
    expect(second.body.sessionId).toBe(first.body.sessionId);
  });

  it('honours a client Idempotency-Key: same key, same session; new key, new session', async () => {
    const { orgId, owner } = await seedTeam();
    const headers = { 'idempotency-key': freshId('key') };

    const first = await checkout(orgId, owner.userId, { amountUsd: 30 }, headers);
    const again = await checkout(orgId, owner.userId, { amountUsd: 30 }, headers);
    const other = await checkout(
      orgId,
      owner.userId,
      { amountUsd: 30 },
      {
        'idempotency-key': freshId('key'),
      },
    );

    expect(again.body.sessionId).toBe(first.body.sessionId);
    expect(other.body.sessionId).not.toBe(first.body.sessionId);
  });

  it.each([9, 25_001, 10.5, -50, 0])(
    'rejects %s dollars with 400 naming the range',
    async (amountUsd) => {
      const { orgId, admin } = await seedTeam();

      const response = await checkout(orgId, admin.userId, { amountUsd });

      expect(response.statusCode).toBe(400);
      expect(response.body.error.code).toBe('invalid_amount');
      expect(response.body.error.message).toContain('from 10 to 25000');
    },
  );

  it('accepts the bounds themselves', async () => {
    const { orgId, admin } = await seedTeam();

    expect((await checkout(orgId, admin.userId, { amountUsd: 10 })).statusCode).toBe(201);
    expect((await checkout(orgId, admin.userId, { amountUsd: 25_000 })).statusCode).toBe(201);
  });

  it('is 403 for a plain member and 404 for a non-member, without calling Stripe', async () => {
    const { orgId, member } = await seedTeam();
    const before = stripe.requestCount();

    const asMember = await checkout(orgId, member.userId, { amountUsd: 50 });
    const asStranger = await checkout(orgId, freshId('user'), { amountUsd: 50 });

    expect(asMember.statusCode).toBe(403);
    expect(asStranger.statusCode).toBe(404);
    expect(stripe.requestCount()).toBe(before);
  });

  it('answers a generic 502 when Stripe is unreachable', async () => {
    const { orgId, admin } = await seedTeam();
    await stripe.close();
    try {
      const response = await checkout(orgId, admin.userId, { amountUsd: 50 });
      expect(response.statusCode).toBe(502);
      expect(JSON.stringify(response.body)).not.toContain('127.0.0.1');
    } finally {
      stripe = await startStripeStandIn({ port: Number(new URL(stripe.url).port) });
    }
  });
});

describe('GET /api/organizations/{orgId}/credits', () => {
  it('shows a zero balance to any member before any purchase', async () => {
    const { orgId, member } = await seedTeam();

    const response = await invoke(
      getCreditBalance,
      apiEvent({
        method: 'GET',
        path: `/api/organizations/${orgId}/credits`,
        params: { orgId },
        userId: member.userId,
      }),
    );

    expect(response.statusCode).toBe(200);
    expect(response.body).toMatchObject({ balanceMicros: 0, balanceUsd: '0.00', currency: 'USD' });
  });

  it('is 404 for a non-member', async () => {
    const { orgId } = await seedTeam();

    const response = await invoke(
      getCreditBalance,
      apiEvent({
        method: 'GET',
        path: `/api/organizations/${orgId}/credits`,
        params: { orgId },
        userId: freshId('user'),
      }),
    );

    expect(response.statusCode).toBe(404);
  });
});
