/**
 * Credit rules (DESIGN §4): what a checkout may buy, which Stripe amounts become credits, and the
 * idempotency keys that make every balance change happen once. Pure functions only.
 */
import { createHash } from 'node:crypto';
import { minorUnitsToMicros } from '#domain/money';
import { BadRequestError } from '#platform/errors';

/** The only currency credits are sold and granted in: one credit is one US dollar. */
export const creditCurrency = 'usd';

export const ledgerEntryKinds = ['purchase', 'usage', 'refund', 'dispute', 'adjustment'] as const;
export type LedgerEntryKind = (typeof ledgerEntryKinds)[number];

export interface CheckoutBounds {
  minUsd: number;
  maxUsd: number;
}

/** Whole dollars within the configured bounds, else a 400 that names the allowed range. */
export function assertCheckoutAmount(amountUsd: number, bounds: CheckoutBounds): number {
  if (!Number.isSafeInteger(amountUsd) || amountUsd < bounds.minUsd || amountUsd > bounds.maxUsd) {
    throw new BadRequestError(
      `amountUsd must be a whole number of dollars from ${bounds.minUsd} to ${bounds.maxUsd}`,
      { minUsd: bounds.minUsd, maxUsd: bounds.maxUsd },
      'invalid_amount',
    );
  }
  return amountUsd;
}

/**
 * The Stripe idempotency key of a checkout request: the same member asking for the same amount
 * within one window gets the same session back (a double click, a retried request).
 */
export function checkoutIdempotencyKey(input: {
  orgId: string;
  userId: string;
  amountUsd: number;
  nowMs: number;
  windowSeconds: number;
}): string {
  const window = Math.floor(input.nowMs / (input.windowSeconds * 1000));
  return stripeKey('checkout', [
    input.orgId,
    input.userId,
    String(input.amountUsd),
    String(window),
  ]);
}

/** The Stripe idempotency key of a checkout request that carries the client's own key. */
export function clientCheckoutIdempotencyKey(input: {
  orgId: string;
  userId: string;
  clientKey: string;
}): string {
  return stripeKey('checkout-client', [input.orgId, input.userId, input.clientKey]);
}

/**
 * Stripe accepts idempotency keys of up to 255 characters, and ids and client keys can be long:
 * the parts are hashed, so the key is short, and parts never run into each other.
 */
function stripeKey(kind: string, parts: string[]): string {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest('base64url');
  return `${kind}:${digest}`;
}

/** Idempotency keys of ledger changes (the APPLIED#<key> markers). */
export const purchaseKey = (checkoutSessionId: string) => `purchase:${checkoutSessionId}`;
export const reversalKey = (reversalId: string) => `reversal:${reversalId}`;
export const usageKey = (usageId: string) => `usage:${usageId}`;

/** The calendar month (UTC) an ISO timestamp falls in, `YYYY-MM`. */
export function monthOf(isoTime: string): string {
  const date = new Date(isoTime);
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a timestamp: ${isoTime}`);
  return date.toISOString().slice(0, 7);
}

/** What Stripe reports for a Checkout Session, as far as crediting needs it. */
export interface ReportedSession {
  currency: string | null;
  amount_subtotal: number | null;
  currency_conversion?: { amount_subtotal: number; source_currency: string } | null;
}

/**
 * Credits for a paid session, in micros, from the pre-tax subtotal Stripe reports. Sessions are
 * created in USD; with Adaptive Pricing the customer may pay in another currency, and Stripe then
 * reports the USD subtotal under `currency_conversion`. Anything else is not creditable (undefined).
 */
export function creditableMicros(session: ReportedSession): number | undefined {
  const currency = session.currency?.toLowerCase();
  if (currency === creditCurrency && session.amount_subtotal !== null) {
    return positiveOrUndefined(minorUnitsToMicros(session.amount_subtotal, creditCurrency));
  }
  const conversion = session.currency_conversion;
  if (conversion && conversion.source_currency.toLowerCase() === creditCurrency) {
    return positiveOrUndefined(minorUnitsToMicros(conversion.amount_subtotal, creditCurrency));
  }
  return undefined;
}

function positiveOrUndefined(micros: number): number | undefined {
  return micros > 0 ? micros : undefined;
}

/**
 * Dispute policy: a dispute changes nothing while it is open (the money may still come back);
 * when it closes as `lost` the disputed amount is revoked once. Won or warning-closed disputes
 * change nothing.
 */
export function disputeRevokes(eventType: string, disputeStatus: string): boolean {
  return eventType === 'charge.dispute.closed' && disputeStatus === 'lost';
}

/**
 * The credits a refund or lost dispute takes back: the same share of what the payment credited
 * as the reversed amount is of what was charged, both in the charge's own currency (so Adaptive
 * Pricing purchases, charged in the buyer's currency, and taxed purchases revoke exactly what they
 * granted). BigInt because credited micros times minor units passes 2^53 for large purchases in
 * currencies with big numbers (KRW, IDR). Rounded down: at most one micro-dollar in the buyer's
 * favour, never a revocation of more than was reversed; Stripe reports refunds cumulatively, so
 * the rounding never accumulates across partial refunds, and a full reversal gives back exactly
 * `creditedMicros`.
 */
export function reversedShareMicros(
  creditedMicros: number,
  reversedMinor: number,
  chargedMinor: number,
): number {
  if (chargedMinor <= 0 || reversedMinor <= 0 || creditedMicros <= 0) return 0;
  const reversed = BigInt(Math.min(reversedMinor, chargedMinor));
  return Number((BigInt(creditedMicros) * reversed) / BigInt(chargedMinor));
}

/** What is left to revoke of a payment: never more in total than it credited. */
export function cappedReversal(
  wantedMicros: number,
  payment: { creditedMicros: number; reversedMicros: number },
): number {
  return Math.max(0, Math.min(wantedMicros, payment.creditedMicros - payment.reversedMicros));
}

/** What a Checkout Session event means for the recorded session; undefined when nothing. */
export type SessionOutcome = 'paid' | 'unpaid' | 'payment_failed' | 'expired';

/**
 * Credits are granted when money is paid: `completed` with `payment_status = paid`, or
 * `async_payment_succeeded`. A completed but unpaid session waits for an asynchronous method;
 * `no_payment_required` sessions (a 100% discount) grant nothing.
 */
export function sessionOutcome(
  eventType: string,
  paymentStatus: string,
): SessionOutcome | undefined {
  switch (eventType) {
    case 'checkout.session.completed':
      if (paymentStatus === 'paid') return 'paid';
      return paymentStatus === 'unpaid' ? 'unpaid' : undefined;
    case 'checkout.session.async_payment_succeeded':
      return paymentStatus === 'paid' ? 'paid' : undefined;
    case 'checkout.session.async_payment_failed':
      return 'payment_failed';
    case 'checkout.session.expired':
      return 'expired';
    default:
      return undefined;
  }
}
