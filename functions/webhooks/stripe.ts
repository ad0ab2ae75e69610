import Stripe from 'stripe';
import * as z from 'zod/mini';
import { getPaymentLink, hasRecordedCheckout, type PaymentLink } from '#data/credits';
import {
  creditableMicros,
  disputeRevokes,
  reversedShareMicros,
  sessionOutcome,
} from '#domain/credits';
import { BadRequestError, ServiceUnavailableError } from '#platform/errors';
import { event, type OutgoingEvent, publishEvents } from '#platform/events';
import { json, signedWebhookRoute } from '#platform/http';
import { logger } from '#platform/logger';
import { orgIdParam } from '#platform/schemas';
import { loadSecret } from '#platform/secrets';
import { stripeClient } from '#platform/stripe';

/**
 * POST /webhooks/stripe. Verifies Stripe's signature on the exact raw bytes, turns the payment
 * events that move money into `CreditPurchasePaid` / `CreditPurchaseReversed` (and sessions that
 * end without money into `CheckoutSessionClosed`), and answers 2xx only once those are on the bus
 * (otherwise Stripe retries). Every other event is acknowledged and ignored. Event ids derive
 * from Stripe's event id, so a redelivery publishes the same ids; the ledger is idempotent on the
 * session / reversal anyway. The webhook only reads the table (PaymentLinks); the ledger writes.
 * It calls Stripe only to ask whose payment an unknown refund or dispute reverses.
 */
const webhookSecret = await loadSecret('STRIPE_WEBHOOK_SECRET');

export const handler = signedWebhookRoute('stripe', async ({ rawBody, headers }) => {
  const stripeEvent = parseObject(envelopeSchema, verify(rawBody, headers['stripe-signature']));
  logger.appendKeys({ stripeEventId: stripeEvent.id, stripeEventType: stripeEvent.type });

  const outgoing = await normalise(stripeEvent);
  if (outgoing.length > 0) await publishEvents(outgoing);
  logger.info('Stripe event handled', { published: outgoing.length });
  return json(200, { received: true, published: outgoing.length });
});

function verify(rawBody: Buffer, signature: string | undefined): unknown {
  if (!signature) {
    throw new BadRequestError('Missing Stripe-Signature header', undefined, 'invalid_signature');
  }
  try {
    return Stripe.webhooks.constructEvent(rawBody, signature, webhookSecret);
  } catch {
    throw new BadRequestError('Invalid Stripe signature', undefined, 'invalid_signature');
  }
}

/** A signature proves who sent the bytes, not their shape: the envelope is parsed first. */
const nonEmpty = z.string().check(z.minLength(1));
const whole = z.number().check(z.int());
const wholeNonNegative = z.number().check(z.int(), z.nonnegative());
const objectId = z.nullish(z.union([z.string(), z.object({ id: z.string() })]));

const envelopeSchema = z.object({
  id: nonEmpty,
  type: nonEmpty,
  created: wholeNonNegative,
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

type StripeEnvelope = z.output<typeof envelopeSchema>;

const metadata = z.nullish(z.record(z.string(), z.string()));

const sessionSchema = z.object({
  id: nonEmpty,
  mode: z.nullish(z.string()),
  payment_status: z.string(),
  client_reference_id: z.nullish(z.string()),
  metadata,
  currency: z.nullable(z.string()),
  amount_subtotal: z.nullable(whole),
  amount_total: z.nullish(wholeNonNegative),
  payment_intent: objectId,
  currency_conversion: z.nullish(z.object({ amount_subtotal: whole, source_currency: z.string() })),
});

const chargeSchema = z.object({
  id: nonEmpty,
  currency: z.string(),
  amount: wholeNonNegative,
  amount_refunded: wholeNonNegative,
  metadata,
  payment_intent: objectId,
});

const disputeSchema = z.object({
  id: nonEmpty,
  amount: wholeNonNegative,
  currency: z.string(),
  status: z.string(),
  metadata,
  payment_intent: objectId,
});

async function normalise(stripeEvent: StripeEnvelope): Promise<OutgoingEvent[]> {
  const object = stripeEvent.data.object;
  switch (stripeEvent.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
    case 'checkout.session.async_payment_failed':
    case 'checkout.session.expired':
      return checkoutSession(stripeEvent, parseObject(sessionSchema, object));
    case 'charge.refunded':
      return refund(stripeEvent, parseObject(chargeSchema, object));
    case 'charge.dispute.closed':
    case 'charge.dispute.created':
      return dispute(stripeEvent, parseObject(disputeSchema, object));
    default:
      return [];
  }
}

function parseObject<T extends z.ZodMiniType>(schema: T, object: unknown): z.output<T> {
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

function checkoutSession(
  stripeEvent: StripeEnvelope,
  session: z.output<typeof sessionSchema>,
): OutgoingEvent[] {
  if (session.mode !== 'payment') {
    logger.info('Checkout session is not a credit purchase; ignored');
    return [];
  }
  const orgId = sessionOrgId(session);
  if (!orgId) return [];
  const outcome = sessionOutcome(stripeEvent.type, session.payment_status);
  if (outcome === 'paid') return purchasePaid(stripeEvent, session, orgId);
  if (!outcome) {
    logger.info('Checkout session event changes nothing', { orgId, sessionId: session.id });
    return [];
  }
  logger.info('Checkout session closed without payment', { orgId, status: outcome });
  return [
    event('CheckoutSessionClosed', {
      eventId: `stripe:${stripeEvent.id}`,
      orgId,
      checkoutSessionId: session.id,
      status: outcome,
      stripeEventId: stripeEvent.id,
      occurredAt: isoTime(stripeEvent.created),
    }),
  ];
}

/**
 * Our checkout puts the organization in both `metadata.orgId` and `client_reference_id`; a
 * session where they are missing or disagree was not made by it and credits no one.
 */
function sessionOrgId(session: z.output<typeof sessionSchema>): string | undefined {
  const fromMetadata = ourOrgId(session.metadata?.orgId);
  const fromReference = ourOrgId(session.client_reference_id);
  if (fromMetadata && fromMetadata === fromReference) return fromMetadata;
  if (fromMetadata || fromReference) {
    logger.warn('Checkout session names two different organizations; ignored', {
      sessionId: session.id,
    });
  } else {
    logger.info('Checkout session names no organization; ignored', { sessionId: session.id });
  }
  return undefined;
}

function purchasePaid(
  stripeEvent: StripeEnvelope,
  session: z.output<typeof sessionSchema>,
  orgId: string,
): OutgoingEvent[] {
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
      chargedMinor: session.amount_total ?? undefined,
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
 * then ends at the right balance. The amount is the refunded share of the charge applied to the
 * credits the payment granted, so refunds in the buyer's currency (Adaptive Pricing) count too.
 */
async function refund(
  stripeEvent: StripeEnvelope,
  charge: z.output<typeof chargeSchema>,
): Promise<OutgoingEvent[]> {
  if (charge.amount_refunded === 0) return [];
  const paymentIntentId = idOf(charge.payment_intent);
  const payment = await creditedPayment(paymentIntentId, { chargeId: charge.id });
  if (!payment || !paymentIntentId) return [];
  if (!matchesPurchase(payment, charge.currency, charge.metadata?.orgId)) return [];
  const amountMicros = reversedShareMicros(
    payment.creditedMicros,
    charge.amount_refunded,
    charge.amount,
  );
  if (amountMicros === 0) return [];
  return [
    event('CreditPurchaseReversed', {
      eventId: `stripe:${stripeEvent.id}`,
      orgId: payment.orgId,
      reason: 'refund',
      reversalId: `charge:${charge.id}`,
      checkoutSessionId: payment.checkoutSessionId,
      paymentIntentId,
      amountMicros,
      stripeEventId: stripeEvent.id,
      occurredAt: isoTime(stripeEvent.created),
    }),
  ];
}

/** Dispute policy (domain/credits `disputeRevokes`): only a dispute closed as lost revokes. */
async function dispute(
  stripeEvent: StripeEnvelope,
  disputed: z.output<typeof disputeSchema>,
): Promise<OutgoingEvent[]> {
  if (!disputeRevokes(stripeEvent.type, disputed.status) || disputed.amount === 0) {
    logger.info('Dispute event changes no balance', { status: disputed.status });
    return [];
  }
  const paymentIntentId = idOf(disputed.payment_intent);
  const payment = await creditedPayment(paymentIntentId, { disputeId: disputed.id });
  if (!payment || !paymentIntentId) return [];
  if (!matchesPurchase(payment, disputed.currency, disputed.metadata?.orgId)) return [];
  const amountMicros = reversedShareMicros(
    payment.creditedMicros,
    disputed.amount,
    payment.chargedMinor ?? 0,
  );
  if (amountMicros === 0) {
    logger.warn('Lost dispute not applied: charged amount unknown', { disputeId: disputed.id });
    return [];
  }
  return [
    event('CreditPurchaseReversed', {
      eventId: `stripe:${stripeEvent.id}`,
      orgId: payment.orgId,
      reason: 'dispute_lost',
      reversalId: `dispute:${disputed.id}`,
      checkoutSessionId: payment.checkoutSessionId,
      paymentIntentId,
      amountMicros,
      stripeEventId: stripeEvent.id,
      occurredAt: isoTime(stripeEvent.created),
    }),
  ];
}

/**
 * The purchase a refund or dispute reverses, from the PaymentLink the ledger wrote when it
 * credited it. Our own record wins over the charge's metadata, which is not ours to trust.
 *
 * No link yet does not mean "not ours": the ledger credits asynchronously, and after an outage
 * Stripe redelivers events in any order, so a refund can arrive before its purchase is credited,
 * however old the charge. Acknowledging it would drop the refund forever, so Stripe itself is
 * asked whose payment it is: one our checkout made for an organization answers 503 and Stripe
 * redelivers until the purchase is credited; any other is acknowledged and ignored.
 */
async function creditedPayment(
  paymentIntentId: string | undefined,
  ids: Record<string, string>,
): Promise<PaymentLink | undefined> {
  if (!paymentIntentId) {
    logger.warn('Reversal names no payment; ignored', ids);
    return undefined;
  }
  const payment = await getPaymentLink(paymentIntentId);
  if (payment) return payment;
  const orgId = await purchasingOrganization(paymentIntentId);
  if (!orgId) {
    logger.warn('Reversal of a payment that is not a credit purchase; ignored', {
      ...ids,
      paymentIntentId,
    });
    return undefined;
  }
  // An error, not info: Stripe stops retrying after three days, and then only an operator
  // resending the event from the Dashboard applies this reversal.
  logger.error('Reversal of a credit purchase not credited yet; asking Stripe to retry', {
    ...ids,
    paymentIntentId,
    orgId,
  });
  throw new ServiceUnavailableError('Payment not credited yet; retry later');
}

/**
 * The organization a PaymentIntent paid credits for, as Stripe knows it: our checkout puts
 * `orgId` in `payment_intent_data.metadata`, and only organizations that recorded a checkout
 * can be credited at all. Undefined for payments Stripe does not know or that name none of ours.
 */
async function purchasingOrganization(paymentIntentId: string): Promise<string | undefined> {
  let metadataOrgId: string | undefined;
  try {
    const stripe = await stripeClient();
    const intent = await stripe.paymentIntents.retrieve(paymentIntentId);
    metadataOrgId = intent.metadata?.orgId;
  } catch (error) {
    // Only "no such PaymentIntent" means not ours; any other 404 (a wrong API base) is retried.
    if ((error as { code?: unknown } | null)?.code === 'resource_missing') return undefined;
    logger.warn('Stripe PaymentIntent lookup failed', {
      paymentIntentId,
      errorName: (error as Error).name,
    });
    throw new ServiceUnavailableError('Stripe is unavailable; retry later');
  }
  const orgId = ourOrgId(metadataOrgId);
  return orgId && (await hasRecordedCheckout(orgId)) ? orgId : undefined;
}

/** A reversal comes in the currency the purchase was charged in; metadata never redirects it. */
function matchesPurchase(
  payment: PaymentLink,
  currency: string,
  metadataOrgId: string | undefined,
): boolean {
  if (metadataOrgId && metadataOrgId !== payment.orgId) {
    logger.warn('Charge metadata names another organization; the credited purchase wins');
  }
  if (payment.currency && payment.currency !== currency.toLowerCase()) {
    logger.warn('Reversal not applied: currency differs from the purchase', { currency });
    return false;
  }
  return true;
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
