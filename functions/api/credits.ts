import * as z from 'zod/mini';
import {
  type CreditBalance,
  listLedgerEntries,
  recordCheckoutSession,
  saveStripeCustomerId,
  toCreditBalance,
} from '#data/credits';
import { decodeCursor, encodeCursor } from '#data/cursor';
import { balanceSk, ledgerSkPrefix, orgMetaSk, orgPk } from '#data/keys';
import { getMembershipWith } from '#data/memberships';
import {
  assertCheckoutAmount,
  checkoutIdempotencyKey,
  clientCheckoutIdempotencyKey,
  creditCurrency,
} from '#domain/credits';
import { dollarsToMinorUnits, formatMicros } from '#domain/money';
import { authorize } from '#domain/permissions';
import { optionalEnv, optionalIntEnv } from '#platform/config';
import { ConflictError, UpstreamError } from '#platform/errors';
import { httpRoute, json } from '#platform/http';
import { logger } from '#platform/logger';
import { orgParams, pageQuery } from '#platform/schemas';
import { stripeClient } from '#platform/stripe';

/** Credit balance, Stripe Checkout for buying credits, and the ledger (DESIGN §3, §4). */
const checkoutBounds = {
  minUsd: optionalIntEnv('CHECKOUT_MIN_USD', 10),
  maxUsd: optionalIntEnv('CHECKOUT_MAX_USD', 25_000),
};
const successUrl = optionalEnv(
  'CHECKOUT_SUCCESS_URL',
  'http://localhost:3000/credits/success?session_id={CHECKOUT_SESSION_ID}',
);
const cancelUrl = optionalEnv('CHECKOUT_CANCEL_URL', 'http://localhost:3000/credits/cancelled');
const idempotencyWindowSeconds = optionalIntEnv('CHECKOUT_IDEMPOTENCY_WINDOW_SECONDS', 600);

export const getCreditBalance = /* @__PURE__ */ httpRoute(
  { params: orgParams },
  async ({ params, caller }) => {
    const { membership, items } = await getMembershipWith(params.orgId, caller.userId, [balanceSk]);
    authorize(membership, 'org.view');

    return json(200, {
      orgId: params.orgId,
      ...presentBalance(toCreditBalance(items.get(balanceSk))),
    });
  },
);

/** Every amount twice: integer micros, and a decimal string of dollars (never a float). */
function presentBalance(balance: CreditBalance) {
  return {
    currency: 'USD',
    balanceMicros: balance.balanceMicros,
    balanceUsd: formatMicros(balance.balanceMicros),
    purchasedMicros: balance.purchasedMicros,
    purchasedUsd: formatMicros(balance.purchasedMicros),
    spentMicros: balance.spentMicros,
    spentUsd: formatMicros(balance.spentMicros),
    refundedMicros: balance.refundedMicros,
    refundedUsd: formatMicros(balance.refundedMicros),
    disputedMicros: balance.disputedMicros,
    disputedUsd: formatMicros(balance.disputedMicros),
  };
}

/** Strict: the amount is the only thing a client chooses (currency and organization are ours). */
const checkoutBody = z.strictObject({
  amountUsd: z.number({ error: 'amountUsd must be a number of whole dollars' }),
});

export const createCheckout = /* @__PURE__ */ httpRoute(
  { params: orgParams, body: checkoutBody },
  async ({ params, body, caller, event }) => {
    const { orgId } = params;
    const { membership, items } = await getMembershipWith(orgId, caller.userId, [orgMetaSk]);
    authorize(membership, 'credits.buy');
    const amountUsd = assertCheckoutAmount(body.amountUsd, checkoutBounds);
    logger.appendKeys({ orgId });

    const stripe = await stripeClient();
    const customerId = await stripeCustomerFor(orgId, items.get(orgMetaSk)?.stripeCustomerId);
    const clientKey = event.headers?.['idempotency-key'];
    const idempotencyKey = clientKey
      ? clientCheckoutIdempotencyKey({ orgId, userId: caller.userId, clientKey })
      : checkoutIdempotencyKey({
          orgId,
          userId: caller.userId,
          amountUsd,
          nowMs: Date.now(),
          windowSeconds: idempotencyWindowSeconds,
        });
    const session = await stripeCall(() =>
      stripe.checkout.sessions.create(
        {
          mode: 'payment',
          customer: customerId,
          client_reference_id: orgId,
          metadata: { orgId, createdBy: caller.userId },
          payment_intent_data: { metadata: { orgId } },
          line_items: [
            {
              quantity: 1,
              price_data: {
                currency: creditCurrency,
                unit_amount: dollarsToMinorUnits(amountUsd, creditCurrency),
                product_data: { name: `${amountUsd} credits` },
              },
            },
          ],
          success_url: successUrl,
          cancel_url: cancelUrl,
        },
        { idempotencyKey },
      ),
    );

    await recordCheckoutSession({
      orgId,
      sessionId: session.id,
      amountUsd,
      status: session.status ?? 'open',
      createdBy: caller.userId,
      createdAt: new Date().toISOString(),
      url: session.url,
    });
    return json(201, { sessionId: session.id, url: session.url, amountUsd });
  },
);

/** One Stripe customer per organization: created on first checkout, then reused. */
async function stripeCustomerFor(orgId: string, stored: unknown): Promise<string> {
  if (typeof stored === 'string' && stored) return stored;
  const stripe = await stripeClient();
  const customer = await stripeCall(() =>
    stripe.customers.create(
      { metadata: { orgId }, description: `Organization ${orgId}` },
      // Concurrent first checkouts create one customer between them.
      { idempotencyKey: `customer:${orgId}` },
    ),
  );
  return saveStripeCustomerId(orgId, customer.id);
}

async function stripeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isIdempotencyError(error)) {
      // The client reused its Idempotency-Key for a different request: theirs to fix, not ours.
      throw new ConflictError(
        'This Idempotency-Key was already used for a different checkout request; ' +
          'use a new key for a new request',
        'idempotency_key_reused',
      );
    }
    logger.warn('Stripe call failed', { errorName: (error as Error).name });
    throw new UpstreamError('Stripe is unavailable; please retry', 'stripe_unavailable');
  }
}

function isIdempotencyError(error: unknown): boolean {
  return (
    // Stripe's error classes carry their kind in `type`; no need to load Stripe to check.
    (error as { type?: unknown } | null)?.type === 'idempotency_error' ||
    (error as { type?: unknown } | null)?.type === 'StripeIdempotencyError'
  );
}

export const listCreditTransactions = /* @__PURE__ */ httpRoute(
  { params: orgParams, query: pageQuery },
  async ({ params, query, caller }) => {
    const startKey = decodeCursor(query.cursor, {
      pk: orgPk(params.orgId),
      skPrefix: ledgerSkPrefix,
    });
    // One round trip: the page is read alongside the membership and shown only after authorize.
    const [{ membership }, page] = await Promise.all([
      getMembershipWith(params.orgId, caller.userId, []),
      listLedgerEntries(params.orgId, { limit: query.limit, startKey }),
    ]);
    authorize(membership, 'credits.ledger.read');

    return json(200, {
      transactions: page.entries.map((entry) => ({
        id: entry.entryId,
        kind: entry.kind,
        amountMicros: entry.amountMicros,
        amountUsd: formatMicros(entry.amountMicros),
        createdAt: entry.createdAt,
        checkoutSessionId: entry.checkoutSessionId,
        reversalId: entry.reversalId,
        usageCount: entry.usageCount,
      })),
      cursor: encodeCursor(page.lastKey) ?? null,
    });
  },
);
