import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';

/**
 * Builders for the Stripe webhook events the service handles, written to Stripe's documented
 * shapes (Event, Checkout Session, Charge, Refund, Dispute), and the signature header Stripe
 * sends. Tests and the demo use them; `checkoutCompletedFromFixture` starts instead from Stripe's
 * own published example object when `../shared/fixtures/stripe/fixtures3.json` is present.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const stripeFixturesPath = path.resolve(
  repoRoot,
  '..',
  'shared',
  'fixtures',
  'stripe',
  'fixtures3.json',
);

export const stripeApiVersion = '2026-11-18.endive';

export type StripeObject = Record<string, unknown>;

export function stripeId(prefix: string, length = 24): string {
  return `${prefix}_${randomBytes(length).toString('base64url').replace(/[-_]/g, 'x').slice(0, length)}`;
}

/** Wraps an object in an Event as Stripe delivers it to a webhook endpoint. */
export function stripeEvent(
  type: string,
  object: StripeObject,
  options: { id?: string; created?: number; previousAttributes?: StripeObject } = {},
): StripeObject {
  return {
    id: options.id ?? stripeId('evt'),
    object: 'event',
    api_version: stripeApiVersion,
    created: options.created ?? Math.floor(Date.now() / 1000),
    data: {
      object,
      ...(options.previousAttributes ? { previous_attributes: options.previousAttributes } : {}),
    },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
}

export interface SessionOptions {
  id?: string;
  orgId: string;
  /** In the currency's minor units (cents for USD). */
  amountSubtotal: number | null;
  amountTotal?: number | null;
  currency?: string | null;
  paymentStatus?: 'paid' | 'unpaid' | 'no_payment_required';
  status?: 'open' | 'complete' | 'expired';
  paymentIntentId?: string | null;
  customerId?: string | null;
  /** Adaptive Pricing: the USD figures Stripe converted from (`currency` is the buyer's). */
  currencyConversion?: { amountSubtotal: number; amountTotal?: number } | null;
  metadataOrgId?: string;
}

/** A Checkout Session in payment mode, as the Checkout Session object is documented. */
export function checkoutSession(options: SessionOptions): StripeObject {
  const id = options.id ?? stripeId('cs_test', 58);
  const now = Math.floor(Date.now() / 1000);
  return {
    id,
    object: 'checkout.session',
    amount_subtotal: options.amountSubtotal,
    amount_total: options.amountTotal === undefined ? options.amountSubtotal : options.amountTotal,
    automatic_tax: { enabled: false, liability: null, status: null },
    cancel_url: 'http://localhost:3000/credits/cancelled',
    client_reference_id: options.orgId,
    created: now - 60,
    currency: options.currency === undefined ? 'usd' : options.currency,
    currency_conversion: options.currencyConversion
      ? {
          amount_subtotal: options.currencyConversion.amountSubtotal,
          amount_total:
            options.currencyConversion.amountTotal ?? options.currencyConversion.amountSubtotal,
          fx_rate: '1',
          source_currency: 'usd',
        }
      : null,
    customer: options.customerId ?? null,
    customer_details: { email: 'buyer@example.com', name: null, phone: null, tax_exempt: 'none' },
    customer_email: null,
    expires_at: now + 23 * 3600,
    invoice: null,
    livemode: false,
    locale: null,
    metadata: { orgId: options.metadataOrgId ?? options.orgId },
    mode: 'payment',
    payment_intent:
      options.paymentIntentId === undefined ? stripeId('pi') : options.paymentIntentId,
    payment_link: null,
    payment_method_types: ['card'],
    payment_status: options.paymentStatus ?? 'paid',
    status: options.status ?? 'complete',
    success_url: 'http://localhost:3000/credits/success',
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: 'hosted',
    url: null,
  };
}

export type CheckoutEventType =
  | 'checkout.session.completed'
  | 'checkout.session.async_payment_succeeded'
  | 'checkout.session.async_payment_failed'
  | 'checkout.session.expired';

export function checkoutSessionEvent(
  type: CheckoutEventType,
  options: SessionOptions,
  eventId?: string,
): StripeObject {
  return stripeEvent(type, checkoutSession(options), { id: eventId });
}

export interface RefundOptions {
  id?: string;
  amount: number;
  status?: 'succeeded' | 'pending' | 'failed' | 'canceled';
}

export interface ChargeOptions {
  id?: string;
  orgId?: string;
  paymentIntentId: string;
  amount: number;
  currency?: string;
  /** Cumulative amount refunded so far, as Stripe reports it on the charge. */
  amountRefunded: number;
  /** The refunds list, when the event carries it (newest first, as Stripe lists them). */
  refunds?: RefundOptions[];
  /** When the charge was made, Unix seconds (default: five minutes ago). */
  created?: number;
}

/** A `charge.refunded` event: the Charge with its cumulative `amount_refunded`. */
export function chargeRefundedEvent(options: ChargeOptions, eventId?: string): StripeObject {
  const chargeId = options.id ?? stripeId('ch');
  const currency = options.currency ?? 'usd';
  const refunds = (options.refunds ?? []).map((refund) => ({
    id: refund.id ?? stripeId('re'),
    object: 'refund',
    amount: refund.amount,
    charge: chargeId,
    created: Math.floor(Date.now() / 1000),
    currency,
    metadata: {},
    payment_intent: options.paymentIntentId,
    reason: 'requested_by_customer',
    status: refund.status ?? 'succeeded',
  }));
  const charge = {
    id: chargeId,
    object: 'charge',
    amount: options.amount,
    amount_captured: options.amount,
    amount_refunded: options.amountRefunded,
    balance_transaction: stripeId('txn'),
    captured: true,
    created: options.created ?? Math.floor(Date.now() / 1000) - 300,
    currency,
    customer: null,
    description: null,
    disputed: false,
    livemode: false,
    metadata: options.orgId ? { orgId: options.orgId } : {},
    paid: true,
    payment_intent: options.paymentIntentId,
    refunded: options.amountRefunded >= options.amount,
    refunds: {
      object: 'list',
      data: refunds,
      has_more: false,
      url: `/v1/charges/${chargeId}/refunds`,
    },
    status: 'succeeded',
  };
  return stripeEvent('charge.refunded', charge, { id: eventId });
}

export interface DisputeOptions {
  id?: string;
  chargeId?: string;
  paymentIntentId: string;
  amount: number;
  currency?: string;
  status:
    | 'warning_needs_response'
    | 'warning_under_review'
    | 'warning_closed'
    | 'needs_response'
    | 'under_review'
    | 'won'
    | 'lost';
  /** When the dispute was opened, Unix seconds (default: ten minutes ago). */
  created?: number;
}

export function disputeEvent(
  type: 'charge.dispute.created' | 'charge.dispute.updated' | 'charge.dispute.closed',
  options: DisputeOptions,
  eventId?: string,
): StripeObject {
  const dispute = {
    id: options.id ?? stripeId('dp'),
    object: 'dispute',
    amount: options.amount,
    balance_transactions: [],
    charge: options.chargeId ?? stripeId('ch'),
    created: options.created ?? Math.floor(Date.now() / 1000) - 600,
    currency: options.currency ?? 'usd',
    evidence_details: { due_by: null, has_evidence: false, past_due: false, submission_count: 0 },
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: options.paymentIntentId,
    reason: 'fraudulent',
    status: options.status,
  };
  return stripeEvent(type, dispute, { id: eventId });
}

/** The `stripe-signature` header Stripe would send for these exact bytes. */
export function signStripePayload(payload: string, secret: string, timestamp?: number): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
}

/** Stripe's published example objects, when the shared fixtures are present. */
export function loadStripeFixture(resource: string): StripeObject | undefined {
  if (!existsSync(stripeFixturesPath)) return undefined;
  const fixtures = JSON.parse(readFileSync(stripeFixturesPath, 'utf8')) as {
    resources: Record<string, StripeObject>;
  };
  return fixtures.resources[resource];
}

/**
 * A `checkout.session.completed` event built from Stripe's published `checkout.session` example,
 * with the fields our case needs overridden. Undefined when the fixture file is absent.
 */
export function checkoutCompletedFromFixture(
  options: SessionOptions,
  eventId?: string,
): StripeObject | undefined {
  const example = loadStripeFixture('checkout.session');
  if (!example) return undefined;
  const amountTotal =
    options.amountTotal === undefined ? options.amountSubtotal : options.amountTotal;
  const session: StripeObject = {
    ...structuredClone(example),
    id: options.id ?? example.id,
    client_reference_id: options.orgId,
    metadata: { orgId: options.orgId },
    amount_subtotal: options.amountSubtotal,
    amount_total: amountTotal,
    currency: options.currency === undefined ? 'usd' : options.currency,
    // The example uses Adaptive Pricing figures of its own; this session was charged in USD.
    currency_conversion: null,
    customer: options.customerId ?? example.customer,
    payment_status: options.paymentStatus ?? 'paid',
    status: options.status ?? 'complete',
    // A fresh PaymentIntent per session, so refunds of different demo runs do not collide.
    payment_intent:
      options.paymentIntentId === undefined ? stripeId('pi') : options.paymentIntentId,
  };
  return stripeEvent('checkout.session.completed', session, { id: eventId });
}

/** The demo's choice: Stripe's own example when available, else our builder. */
export function checkoutCompletedEvent(
  options: SessionOptions,
  eventId?: string,
): { event: StripeObject; source: 'stripe-fixture' | 'builder' } {
  const fromFixture = checkoutCompletedFromFixture(options, eventId);
  if (fromFixture) return { event: fromFixture, source: 'stripe-fixture' };
  return {
    event: checkoutSessionEvent('checkout.session.completed', options, eventId),
    source: 'builder',
  };
}
