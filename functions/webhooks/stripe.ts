import Stripe from 'stripe';
import { z } from 'zod';
import { findOrgByPaymentIntent } from '#data/credits';
import { creditableMicros, disputeRevokes } from '#domain/credits';
import { minorUnitsToMicros } from '#domain/money';
import { BadRequestError } from '#platform/errors';
import { event, type OutgoingEvent, publishEvents } from '#platform/events';
import { json, signedWebhookRoute } from '#platform/http';
import { logger } from '#platform/logger';
import { orgIdParam } from '#platform/schemas';
import { loadSecret } from '#platform/secrets';

/**
 * POST /webhooks/stripe. Verifies Stripe's signature on the exact raw bytes, turns the payment
 * events that move money into `CreditPurchasePaid` / `CreditPurchaseReversed`, and answers 2xx
 * only once those are on the bus (otherwise Stripe retries). Every other event is acknowledged
 * and ignored. Event ids derive from Stripe's event id, so a redelivery publishes the same ids;
 * the ledger is idempotent on the session / reversal anyway.
 */
const webhookSecret = await loadSecret('STRIPE_WEBHOOK_SECRET');

export const handler = signedWebhookRoute('stripe', async ({ rawBody, headers }) => {
  const stripeEvent = verify(rawBody, headers['stripe-signature']);
  logger.appendKeys({ stripeEventId: stripeEvent.id, stripeEventType: stripeEvent.type });

  const outgoing = await normalise(stripeEvent);
  if (outgoing.length > 0) await publishEvents(outgoing);
  logger.info('Stripe event handled', { published: outgoing.length });
  return json(200, { received: true, published: outgoing.length });
});

function verify(rawBody: Buffer, signature: string | undefined): Stripe.Event {
  if (!signature) {
    throw new BadRequestError('Missing Stripe-Signature header', undefined, 'invalid_signature');
  }
  try {
    return Stripe.webhooks.constructEvent(rawBody, signature, webhookSecret);
  } catch {
    throw new BadRequestError('Invalid Stripe signature', undefined, 'invalid_signature');
  }
}

const metadata = z.record(z.string(), z.string()).nullish();

const sessionSchema = z.object({
  id: z.string().min(1),
  mode: z.string().nullish(),
  payment_status: z.string(),
  client_reference_id: z.string().nullish(),
  metadata,
  currency: z.string().nullable(),
  amount_subtotal: z.number().int().nullable(),
  payment_intent: z.union([z.string(), z.object({ id: z.string() })]).nullish(),
  currency_conversion: z
    .object({ amount_subtotal: z.number().int(), source_currency: z.string() })
    .nullish(),
});

const chargeSchema = z.object({
  id: z.string().min(1),
  currency: z.string(),
  amount_refunded: z.number().int().nonnegative(),
  metadata,
  payment_intent: z.union([z.string(), z.object({ id: z.string() })]).nullish(),
});

const disputeSchema = z.object({
  id: z.string().min(1),
  amount: z.number().int().nonnegative(),
  currency: z.string(),
  status: z.string(),
  metadata,
  payment_intent: z.union([z.string(), z.object({ id: z.string() })]).nullish(),
});

async function normalise(stripeEvent: Stripe.Event): Promise<OutgoingEvent[]> {
  const object = stripeEvent.data.object as unknown;
  switch (stripeEvent.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
      return purchasePaid(stripeEvent, parseObject(sessionSchema, object));
    case 'charge.refunded':
      return refund(stripeEvent, parseObject(chargeSchema, object));
    case 'charge.dispute.closed':
    case 'charge.dispute.created':
      return dispute(stripeEvent, parseObject(disputeSchema, object));
    default:
      // Includes async_payment_failed and expired: no money moved, nothing to credit.
      return [];
  }
}

function parseObject<T extends z.ZodType>(schema: T, object: unknown): z.output<T> {
  const result = schema.safeParse(object);
  if (!result.success) {
    throw new BadRequestError(
      'Stripe event object has an unexpected shape',
      undefined,
      'bad_event',
    );
  }
  return result.data;
}

function purchasePaid(
  stripeEvent: Stripe.Event,
  session: z.output<typeof sessionSchema>,
): OutgoingEvent[] {
  const orgId = ourOrgId(session.metadata?.orgId ?? session.client_reference_id);
  if (!orgId || session.mode !== 'payment') {
    logger.info('Checkout session is not a credit purchase; ignored');
    return [];
  }
  // Unpaid (async methods still settling) and no_payment_required sessions grant nothing.
  if (session.payment_status !== 'paid') {
    logger.info('Checkout session not paid; nothing credited', { orgId, sessionId: session.id });
    return [];
  }
  const amountMicros = creditableMicros(session);
  if (amountMicros === undefined) {
    logger.warn('Paid session not creditable (currency or amount)', {
      orgId,
      sessionId: session.id,
      currency: session.currency,
    });
    return [];
  }
  return [
    event('CreditPurchasePaid', {
      eventId: `stripe:${stripeEvent.id}`,
      orgId,
      checkoutSessionId: session.id,
      amountMicros,
      currency: (session.currency ?? 'usd').toLowerCase(),
      amountMinor: session.amount_subtotal ?? 0,
      paymentIntentId: idOf(session.payment_intent),
      stripeEventId: stripeEvent.id,
      occurredAt: isoTime(stripeEvent.created),
    }),
  ];
}

/**
 * Stripe reports `amount_refunded` cumulatively on the charge, and newer API versions do not
 * include the refunds list, so the reversal carries the cumulative amount under one id per charge
 * and the ledger revokes only what it has not revoked yet. Any number and order of refund events
 * then ends at the right balance.
 */
async function refund(
  stripeEvent: Stripe.Event,
  charge: z.output<typeof chargeSchema>,
): Promise<OutgoingEvent[]> {
  if (charge.amount_refunded === 0) return [];
  const paymentIntentId = idOf(charge.payment_intent);
  const owner = await ownerOf(charge.metadata?.orgId, paymentIntentId);
  if (!owner || charge.currency.toLowerCase() !== 'usd') {
    logger.warn('Refund not applied: unknown payment or currency', {
      chargeId: charge.id,
      currency: charge.currency,
    });
    return [];
  }
  return [
    event('CreditPurchaseReversed', {
      eventId: `stripe:${stripeEvent.id}`,
      orgId: owner.orgId,
      reason: 'refund',
      reversalId: `charge:${charge.id}`,
      checkoutSessionId: owner.checkoutSessionId,
      paymentIntentId,
      amountMicros: minorUnitsToMicros(charge.amount_refunded, 'usd'),
      stripeEventId: stripeEvent.id,
      occurredAt: isoTime(stripeEvent.created),
    }),
  ];
}

/** Dispute policy (domain/credits `disputeRevokes`): only a dispute closed as lost revokes. */
async function dispute(
  stripeEvent: Stripe.Event,
  disputed: z.output<typeof disputeSchema>,
): Promise<OutgoingEvent[]> {
  if (!disputeRevokes(stripeEvent.type, disputed.status) || disputed.amount === 0) {
    logger.info('Dispute event changes no balance', { status: disputed.status });
    return [];
  }
  const paymentIntentId = idOf(disputed.payment_intent);
  const owner = await ownerOf(disputed.metadata?.orgId, paymentIntentId);
  if (!owner || disputed.currency.toLowerCase() !== 'usd') {
    logger.warn('Lost dispute not applied: unknown payment or currency', {
      disputeId: disputed.id,
      currency: disputed.currency,
    });
    return [];
  }
  return [
    event('CreditPurchaseReversed', {
      eventId: `stripe:${stripeEvent.id}`,
      orgId: owner.orgId,
      reason: 'dispute_lost',
      reversalId: `dispute:${disputed.id}`,
      checkoutSessionId: owner.checkoutSessionId,
      paymentIntentId,
      amountMicros: minorUnitsToMicros(disputed.amount, 'usd'),
      stripeEventId: stripeEvent.id,
      occurredAt: isoTime(stripeEvent.created),
    }),
  ];
}

/** The organization a payment belongs to: from metadata, else from the credited purchase. */
async function ownerOf(
  metadataOrgId: string | undefined,
  paymentIntentId: string | undefined,
): Promise<{ orgId: string; checkoutSessionId?: string } | undefined> {
  const fromMetadata = ourOrgId(metadataOrgId);
  if (fromMetadata) return { orgId: fromMetadata };
  return paymentIntentId ? findOrgByPaymentIntent(paymentIntentId) : undefined;
}

function ourOrgId(value: string | null | undefined): string | undefined {
  return orgIdParam.safeParse(value).success ? (value as string) : undefined;
}

function idOf(value: string | { id: string } | null | undefined): string | undefined {
  if (!value) return undefined;
  return typeof value === 'string' ? value : value.id;
}

function isoTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString();
}
