import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCheckout, listCreditTransactions } from '#api/credits';
import { getMembersFinancial } from '#api/usage';
import { handler as creditLedger } from '#consumers/credit-ledger';
import {
  getCheckoutSession,
  getCreditBalance,
  grantPurchasedCredits,
  listAllLedgerEntries,
} from '#data/credits';
import {
  chargeRefundedEvent,
  checkoutSessionEvent,
  disputeEvent,
  type SessionOptions,
  signStripePayload,
  stripeId,
} from '#local/payloads/stripe';
import { reconcileOrganization } from '#local/reconcile';
import { type StripeStandIn, startStripeStandIn } from '#local/stand-ins/stripe';
import { documentClient } from '#platform/aws-clients';
import { logger } from '#platform/logger';
import {
  captureEvents,
  freshId,
  recordCheckout,
  seedOrganization,
  seedTeam,
  stripeWebhookRequest,
  toEventBridgeEvent,
} from '#test/integration/money-setup';
import { apiEvent, invoke, webhookEvent } from '#test/support/api-event';
import { handler as stripeWebhook } from '#webhooks/stripe';

/**
 * What a hostile tester found in the money paths: sessions and payments that are not ours,
 * reversals beyond the purchase, foreign-currency refunds, refunds that overtake their purchase,
 * malformed signed bodies, loose checkout input, and session outcomes that were never recorded.
 */
let capture: ReturnType<typeof captureEvents>;
let stripe: StripeStandIn;
const orgsToReconcile: string[] = [];

// Checkout calls Stripe, and so does the webhook when it asks whose an unknown payment is.
beforeAll(async () => {
  stripe = await startStripeStandIn();
  process.env.STRIPE_API_BASE = stripe.url;
});

afterAll(async () => {
  await stripe.close();
});

beforeEach(() => {
  capture = captureEvents();
});

afterEach(async () => {
  capture.eventBridge.restore();
  stripe.setOutage(false);
  vi.restoreAllMocks();
  for (const orgId of orgsToReconcile.splice(0)) {
    expect((await reconcileOrganization(orgId)).differences).toEqual([]);
  }
});

async function deliver(payload: object) {
  const before = capture.published.length;
  const response = await invoke(stripeWebhook, stripeWebhookRequest(payload));
  const entries = capture.published.slice(before);
  const results = [];
  for (const entry of entries) results.push(await creditLedger(toEventBridgeEvent(entry)));
  return { response, entries, results };
}

function checkout(orgId: string, userId: string, body: unknown, key?: string) {
  return invoke(
    createCheckout,
    apiEvent({
      method: 'POST',
      path: `/api/organizations/${orgId}/credits/checkout`,
      params: { orgId },
      userId,
      body,
      headers: key ? { 'idempotency-key': key } : undefined,
    }),
  );
}

async function newOrg() {
  const team = await seedTeam();
  orgsToReconcile.push(team.orgId);
  return team;
}

/** An organization that bought `amountSubtotal` cents of credits through a recorded checkout. */
async function purchased(options: Partial<SessionOptions> = {}) {
  const team = await newOrg();
  const sessionId = await recordCheckout(team.orgId);
  const paymentIntentId = stripeId('pi');
  const { results } = await deliver(
    checkoutSessionEvent('checkout.session.completed', {
      id: sessionId,
      orgId: team.orgId,
      amountSubtotal: 5000,
      paymentIntentId,
      ...options,
    }),
  );
  expect(results).toEqual([{ result: 'applied' }]);
  return { ...team, sessionId, paymentIntentId };
}

describe('crediting only our own checkout sessions', () => {
  it('acknowledges but does not credit a paid session the organization never created', async () => {
    const { orgId } = await newOrg();

    const { response, results } = await deliver(
      checkoutSessionEvent('checkout.session.completed', { orgId, amountSubtotal: 5000 }),
    );

    expect(response.statusCode).toBe(200);
    expect(results).toEqual([{ result: 'unknown_session' }]);
    expect((await getCreditBalance(orgId)).balanceMicros).toBe(0);
    expect(await listAllLedgerEntries(orgId)).toEqual([]);
  });

  it('does not credit an organization that does not exist', async () => {
    const orgId = freshId('org');

    const { results } = await deliver(
      checkoutSessionEvent('checkout.session.completed', { orgId, amountSubtotal: 5000 }),
    );

    expect(results).toEqual([{ result: 'unknown_session' }]);
    expect((await getCreditBalance(orgId)).balanceMicros).toBe(0);
  });

  it('does not credit a session recorded for another organization', async () => {
    const buyer = await newOrg();
    const other = await newOrg();
    const sessionId = await recordCheckout(buyer.orgId);

    const { results } = await deliver(
      checkoutSessionEvent('checkout.session.completed', {
        id: sessionId,
        orgId: other.orgId,
        amountSubtotal: 5000,
      }),
    );

    expect(results).toEqual([{ result: 'unknown_session' }]);
    expect((await getCreditBalance(other.orgId)).balanceMicros).toBe(0);
    expect((await getCreditBalance(buyer.orgId)).balanceMicros).toBe(0);
  });

  it('reports a failed session condition in the grant transaction as unknown_session', async () => {
    const dynamo = mockClient(DynamoDBDocumentClient);
    try {
      dynamo.on(GetCommand).resolves({});
      dynamo.on(TransactWriteCommand).rejects(
        new TransactionCanceledException({
          message: 'cancelled',
          $metadata: {},
          CancellationReasons: ['None', 'None', 'None', 'ConditionalCheckFailed', 'None'].map(
            (Code) => ({ Code }),
          ),
        }),
      );

      const result = await grantPurchasedCredits({
        eventId: freshId('ev'),
        orgId: 'org_never_created',
        checkoutSessionId: stripeId('cs_test', 58),
        amountMicros: 10_000_000,
        currency: 'usd',
        amountMinor: 1000,
        paymentIntentId: stripeId('pi'),
        stripeEventId: freshId('evt'),
        occurredAt: new Date().toISOString(),
      });

      expect(result).toBe('unknown_session');
      const items = dynamo.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems;
      expect(items?.[3]?.Update?.ConditionExpression).toMatch(/^attribute_exists\(pk\)/);
    } finally {
      dynamo.restore();
    }
  });

  it('credits what Stripe reports and warns when it differs from the recorded amount', async () => {
    const { orgId } = await newOrg();
    const sessionId = await recordCheckout(orgId, { amountUsd: 50 });
    const warn = vi.spyOn(logger, 'warn');

    await deliver(
      checkoutSessionEvent('checkout.session.completed', {
        id: sessionId,
        orgId,
        amountSubtotal: 4000,
      }),
    );

    expect((await getCreditBalance(orgId)).balanceMicros).toBe(40_000_000);
    expect(warn).toHaveBeenCalledWith('Credited amount differs from the recorded checkout amount', {
      checkoutSessionId: sessionId,
      recordedUsd: 50,
      creditedMicros: 40_000_000,
    });
  });

  it('does not credit a session whose metadata and client_reference_id disagree', async () => {
    const { orgId } = await newOrg();
    const other = await newOrg();
    const sessionId = await recordCheckout(orgId);
    await recordCheckout(other.orgId, { sessionId });

    const { response, entries } = await deliver(
      checkoutSessionEvent('checkout.session.completed', {
        id: sessionId,
        orgId: other.orgId,
        metadataOrgId: orgId,
        amountSubtotal: 5000,
      }),
    );

    expect(response.statusCode).toBe(200);
    expect(entries).toEqual([]);
    expect((await getCreditBalance(orgId)).balanceMicros).toBe(0);
    expect((await getCreditBalance(other.orgId)).balanceMicros).toBe(0);
  });
});

describe('reversals never exceed the purchase', () => {
  it('caps a refund reported above the purchase at what the purchase credited', async () => {
    const { orgId, paymentIntentId } = await purchased();

    await deliver(
      chargeRefundedEvent({ paymentIntentId, orgId, amount: 5000, amountRefunded: 900_000 }),
    );

    const balance = await getCreditBalance(orgId);
    expect(balance.balanceMicros).toBe(0);
    expect(balance.refundedMicros).toBe(50_000_000);
  });

  it('caps a full refund followed by a lost dispute of the same payment at the purchase', async () => {
    const { orgId, paymentIntentId } = await purchased();

    await deliver(chargeRefundedEvent({ paymentIntentId, amount: 5000, amountRefunded: 5000 }));
    const lost = await deliver(
      disputeEvent('charge.dispute.closed', { paymentIntentId, amount: 5000, status: 'lost' }),
    );

    expect(lost.results).toEqual([{ result: 'capped' }]);
    const balance = await getCreditBalance(orgId);
    expect(balance).toMatchObject({
      balanceMicros: 0,
      refundedMicros: 50_000_000,
      disputedMicros: 0,
    });
  });

  it('caps a partial refund and a lost dispute racing each other at the purchase', async () => {
    const { orgId, paymentIntentId } = await purchased();
    const before = capture.published.length;
    await invoke(
      stripeWebhook,
      stripeWebhookRequest(
        chargeRefundedEvent({ paymentIntentId, amount: 5000, amountRefunded: 3000 }),
      ),
    );
    await invoke(
      stripeWebhook,
      stripeWebhookRequest(
        disputeEvent('charge.dispute.closed', { paymentIntentId, amount: 5000, status: 'lost' }),
      ),
    );

    await Promise.all(
      capture.published.slice(before).map((entry) => creditLedger(toEventBridgeEvent(entry))),
    );

    const balance = await getCreditBalance(orgId);
    expect(balance.balanceMicros).toBe(0);
    expect(balance.refundedMicros + balance.disputedMicros).toBe(50_000_000);
  });

  it('attributes a refund to the buying organization whatever the charge metadata says', async () => {
    const { orgId, paymentIntentId } = await purchased();
    const bystander = await newOrg();
    const bystanderSession = await recordCheckout(bystander.orgId);
    await deliver(
      checkoutSessionEvent('checkout.session.completed', {
        id: bystanderSession,
        orgId: bystander.orgId,
        amountSubtotal: 5000,
      }),
    );

    await deliver(
      chargeRefundedEvent({
        paymentIntentId,
        orgId: bystander.orgId,
        amount: 5000,
        amountRefunded: 2000,
      }),
    );

    expect((await getCreditBalance(orgId)).balanceMicros).toBe(30_000_000);
    expect((await getCreditBalance(bystander.orgId)).balanceMicros).toBe(50_000_000);
  });
});

describe('Adaptive Pricing (buyer pays in another currency)', () => {
  const eurPurchase = {
    currency: 'eur',
    amountSubtotal: 4600,
    currencyConversion: { amountSubtotal: 5000 },
  };

  it('revokes a refund in the buyer’s currency in proportion to the charge, rounded down', async () => {
    const { orgId, paymentIntentId } = await purchased(eurPurchase);
    expect((await getCreditBalance(orgId)).purchasedMicros).toBe(50_000_000);

    await deliver(
      chargeRefundedEvent({ paymentIntentId, currency: 'eur', amount: 4600, amountRefunded: 1533 }),
    );

    // 50,000,000 * 1533 / 4600 = 16,663,043.47... -> 16,663,043
    expect((await getCreditBalance(orgId)).refundedMicros).toBe(16_663_043);

    await deliver(
      chargeRefundedEvent({ paymentIntentId, currency: 'eur', amount: 4600, amountRefunded: 4600 }),
    );

    const balance = await getCreditBalance(orgId);
    expect(balance.refundedMicros).toBe(50_000_000);
    expect(balance.balanceMicros).toBe(0);
  });

  it('revokes a lost dispute in the buyer’s currency in proportion to the charge', async () => {
    const { orgId, paymentIntentId } = await purchased(eurPurchase);

    await deliver(
      disputeEvent('charge.dispute.closed', {
        paymentIntentId,
        currency: 'eur',
        amount: 2300,
        status: 'lost',
      }),
    );

    expect((await getCreditBalance(orgId)).disputedMicros).toBe(25_000_000);
  });

  it('bases a lost dispute on what was charged, tax included', async () => {
    const { orgId, paymentIntentId } = await purchased({ amountSubtotal: 5000, amountTotal: 5500 });

    await deliver(
      disputeEvent('charge.dispute.closed', { paymentIntentId, amount: 5500, status: 'lost' }),
    );

    expect((await getCreditBalance(orgId)).balanceMicros).toBe(0);
  });
});

describe('refunds that overtake their purchase', () => {
  const hoursAgo = (hours: number) => Math.floor(Date.now() / 1000) - hours * 3600;

  it('retries an hours-old refund that arrives before its purchase, and ends at zero', async () => {
    const { orgId } = await newOrg();
    const sessionId = await recordCheckout(orgId);
    const paymentIntentId = stripeId('pi');
    stripe.registerPaymentIntent(paymentIntentId, { metadata: { orgId } });
    const refund = chargeRefundedEvent({
      paymentIntentId,
      amount: 5000,
      amountRefunded: 5000,
      created: hoursAgo(2),
    });

    const early = await deliver(refund);
    expect(early.response.statusCode).toBe(503);
    expect(early.entries).toEqual([]);

    await deliver(
      checkoutSessionEvent('checkout.session.completed', {
        id: sessionId,
        orgId,
        amountSubtotal: 5000,
        paymentIntentId,
      }),
    );
    expect((await getCreditBalance(orgId)).balanceMicros).toBe(50_000_000);
    const retried = await deliver(refund);

    expect(retried.response.statusCode).toBe(200);
    const balance = await getCreditBalance(orgId);
    expect(balance.balanceMicros).toBe(0);
    expect(balance.refundedMicros).toBe(50_000_000);
  });

  it('knows a payment of our checkout from the metadata the checkout gave its PaymentIntent', async () => {
    const { orgId, admin } = await newOrg();
    const created = await checkout(orgId, admin.userId, { amountUsd: 50 });
    const intent = stripe.paySession(created.body.sessionId);
    const refund = chargeRefundedEvent({
      paymentIntentId: String(intent.id),
      amount: 5000,
      amountRefunded: 2000,
      created: hoursAgo(30),
    });

    expect((await deliver(refund)).response.statusCode).toBe(503);
    await deliver(
      checkoutSessionEvent('checkout.session.completed', {
        id: created.body.sessionId,
        orgId,
        amountSubtotal: 5000,
        paymentIntentId: String(intent.id),
      }),
    );
    expect((await deliver(refund)).response.statusCode).toBe(200);

    expect((await getCreditBalance(orgId)).balanceMicros).toBe(30_000_000);
  });

  it('answers 503 to a lost dispute of a payment of ours not credited yet', async () => {
    const { orgId } = await newOrg();
    await recordCheckout(orgId);
    const paymentIntentId = stripeId('pi');
    stripe.registerPaymentIntent(paymentIntentId, { metadata: { orgId } });

    const { response, entries } = await deliver(
      disputeEvent('charge.dispute.closed', {
        paymentIntentId,
        amount: 5000,
        status: 'lost',
        created: hoursAgo(5),
      }),
    );

    expect(response.statusCode).toBe(503);
    expect(entries).toEqual([]);
  });

  it('acknowledges a refund of a payment Stripe does not know (404) and changes nothing', async () => {
    const { orgId } = await purchased();

    const { response, entries } = await deliver(
      chargeRefundedEvent({
        orgId,
        paymentIntentId: stripeId('pi'),
        amount: 5000,
        amountRefunded: 5000,
      }),
    );

    expect(response.statusCode).toBe(200);
    expect(entries).toEqual([]);
    expect((await getCreditBalance(orgId)).balanceMicros).toBe(50_000_000);
  });

  it.each([
    ['names no organization', () => ({})],
    ['names something that is not an organization id', () => ({ orgId: 'not an org' })],
    ['names an organization that never started a checkout', () => ({ orgId: freshId('org') })],
  ])('acknowledges a refund of a PaymentIntent whose metadata %s', async (_, metadata) => {
    const paymentIntentId = stripeId('pi');
    stripe.registerPaymentIntent(paymentIntentId, { metadata: metadata() });

    const { response, entries } = await deliver(
      chargeRefundedEvent({ paymentIntentId, amount: 700, amountRefunded: 700 }),
    );

    expect(response.statusCode).toBe(200);
    expect(entries).toEqual([]);
  });

  it('answers 503 while Stripe cannot say whose payment it is, and decides once it can', async () => {
    const refund = chargeRefundedEvent({
      paymentIntentId: stripeId('pi'),
      amount: 700,
      amountRefunded: 700,
      created: hoursAgo(2),
    });

    stripe.setOutage(true);
    const during = await deliver(refund);
    stripe.setOutage(false);
    const after = await deliver(refund);

    expect(during.response.statusCode).toBe(503);
    expect(during.response.body.error.code).toBe('unavailable');
    expect(after.response.statusCode).toBe(200);
    expect(after.entries).toEqual([]);
  });
});

describe('signed bodies with the wrong shape', () => {
  function signedRaw(body: string) {
    return webhookEvent({
      path: '/webhooks/stripe',
      body,
      headers: {
        'stripe-signature': signStripePayload(body, String(process.env.STRIPE_WEBHOOK_SECRET)),
      },
    });
  }

  it.each([
    ['an array', '[]'],
    ['an event without data.object', '{"id":"evt_x","type":"checkout.session.completed"}'],
  ])('answers 400 bad_event to %s', async (_, body) => {
    const response = await invoke(stripeWebhook, signedRaw(body));

    expect(response.statusCode).toBe(400);
    expect(response.body.error.code).toBe('bad_event');
  });
});

describe('checkout input', () => {
  it('answers 409 when an Idempotency-Key is reused for a different amount', async () => {
    const { orgId, admin } = await seedTeam();
    const key = freshId('key');

    const first = await checkout(orgId, admin.userId, { amountUsd: 30 }, key);
    const second = await checkout(orgId, admin.userId, { amountUsd: 40 }, key);

    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(409);
    expect(second.body.error).toEqual({
      code: 'idempotency_key_reused',
      message:
        'This Idempotency-Key was already used for a different checkout request; ' +
        'use a new key for a new request',
    });
  });

  it('refuses fields other than amountUsd with 422', async () => {
    const { orgId, admin } = await seedTeam();
    const other = await seedTeam();

    const response = await checkout(orgId, admin.userId, {
      amountUsd: 50,
      currency: 'jpy',
      orgId: other.orgId,
    });

    expect(response.statusCode).toBe(422);
    expect(response.body.error.code).toBe('validation_failed');
  });
});

describe('checkout session outcomes', () => {
  async function recorded() {
    const { orgId } = await newOrg();
    const sessionId = await recordCheckout(orgId);
    const session = (paymentStatus: 'paid' | 'unpaid') => ({
      id: sessionId,
      orgId,
      amountSubtotal: 5000,
      paymentStatus,
    });
    return { orgId, sessionId, session };
  }

  it('publishes CheckoutSessionClosed and records an expired session', async () => {
    const { orgId, sessionId, session } = await recorded();
    const expired = checkoutSessionEvent('checkout.session.expired', session('unpaid'));

    const { entries } = await deliver(expired);

    expect(entries.map((entry) => [entry.Source, entry.DetailType])).toEqual([
      ['payments', 'CheckoutSessionClosed'],
    ]);
    expect(JSON.parse(String(entries[0]?.Detail))).toEqual({
      eventId: `stripe:${expired.id}`,
      orgId,
      checkoutSessionId: sessionId,
      status: 'expired',
      stripeEventId: expired.id,
      occurredAt: expect.any(String),
    });
    expect((await getCheckoutSession(orgId, sessionId))?.status).toBe('expired');
  });

  it('records unpaid on completion, then payment_failed when the async payment fails', async () => {
    const { orgId, sessionId, session } = await recorded();

    await deliver(checkoutSessionEvent('checkout.session.completed', session('unpaid')));
    expect((await getCheckoutSession(orgId, sessionId))?.status).toBe('unpaid');

    await deliver(checkoutSessionEvent('checkout.session.async_payment_failed', session('unpaid')));
    expect((await getCheckoutSession(orgId, sessionId))?.status).toBe('payment_failed');
    expect((await getCreditBalance(orgId)).balanceMicros).toBe(0);
  });

  it('never moves a paid session back, whatever arrives late', async () => {
    const { orgId, sessionId, session } = await recorded();
    await deliver(checkoutSessionEvent('checkout.session.completed', session('paid')));

    const late = await deliver(
      checkoutSessionEvent('checkout.session.completed', session('unpaid')),
    );
    await deliver(checkoutSessionEvent('checkout.session.async_payment_failed', session('unpaid')));

    expect(late.results).toEqual([{ result: 'unchanged' }]);
    expect((await getCheckoutSession(orgId, sessionId))?.status).toBe('paid');
    expect((await getCreditBalance(orgId)).balanceMicros).toBe(50_000_000);
  });

  it('ignores the outcome of a session it never recorded', async () => {
    const { orgId } = await newOrg();
    const sessionId = stripeId('cs_test', 58);

    const { response, results } = await deliver(
      checkoutSessionEvent('checkout.session.expired', {
        id: sessionId,
        orgId,
        amountSubtotal: 5000,
        paymentStatus: 'unpaid',
      }),
    );

    expect(response.statusCode).toBe(200);
    expect(results).toEqual([{ result: 'unchanged' }]);
    expect(await getCheckoutSession(orgId, sessionId)).toBeUndefined();
  });
});

describe('round trips', () => {
  /** Records when each DynamoDB call starts and ends. */
  function traceCalls() {
    const trace: string[] = [];
    const send = documentClient.send.bind(documentClient);
    vi.spyOn(documentClient, 'send').mockImplementation((async (command: object) => {
      const name = command.constructor.name;
      trace.push(`start ${name}`);
      try {
        return await send(command as never);
      } finally {
        trace.push(`end ${name}`);
      }
    }) as never);
    return trace;
  }

  const request = (route: string, orgId: string, userId: string, query = {}) =>
    apiEvent({
      method: 'GET',
      path: `/api/organizations/${orgId}/${route}`,
      params: { orgId },
      query,
      userId,
    });

  it('reads the ledger page alongside the membership', async () => {
    const { orgId, admin } = await seedTeam();
    const trace = traceCalls();

    const response = await invoke(
      listCreditTransactions,
      request('credits/transactions', orgId, admin.userId),
    );

    expect(response.statusCode).toBe(200);
    expect(trace.slice(0, 2)).toEqual(['start BatchGetCommand', 'start QueryCommand']);
  });

  it('reads the members page alongside the membership', async () => {
    const { orgId, admin } = await seedTeam();
    const trace = traceCalls();

    const response = await invoke(
      getMembersFinancial,
      request('members/financial', orgId, admin.userId),
    );

    expect(response.statusCode).toBe(200);
    expect(trace.slice(0, 2)).toEqual(['start BatchGetCommand', 'start QueryCommand']);
  });

  it('still answers 404 to a non-member and shows no page', async () => {
    const { orgId } = await seedTeam();

    const response = await invoke(
      getMembersFinancial,
      request('members/financial', orgId, freshId('stranger')),
    );

    expect(response.statusCode).toBe(404);
    expect(response.body.members).toBeUndefined();
  });

  it('gives the last members/financial page no cursor when it is exactly full', async () => {
    const members = Array.from({ length: 4 }, (_, n) => ({
      userId: freshId(`user${n}`),
      role: n === 0 ? ('owner' as const) : ('member' as const),
      email: `m${n}@example.com`,
    }));
    const orgId = await seedOrganization(members);
    const owner = members[0]?.userId as string;

    const first = await invoke(
      getMembersFinancial,
      request('members/financial', orgId, owner, { limit: '2' }),
    );
    const last = await invoke(
      getMembersFinancial,
      request('members/financial', orgId, owner, { limit: '2', cursor: first.body.cursor }),
    );

    expect(first.body.members).toHaveLength(2);
    expect(first.body.cursor).toEqual(expect.any(String));
    expect(last.body.members).toHaveLength(2);
    expect(last.body.cursor).toBeNull();
  });
});
