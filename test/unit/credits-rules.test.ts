import { describe, expect, it } from 'vitest';
import {
  assertCheckoutAmount,
  cappedReversal,
  checkoutIdempotencyKey,
  clientCheckoutIdempotencyKey,
  creditableMicros,
  disputeRevokes,
  monthOf,
  reversedShareMicros,
  sessionOutcome,
} from '#domain/credits';
import { BadRequestError } from '#platform/errors';

const bounds = { minUsd: 10, maxUsd: 25_000 };

describe('checkout amount', () => {
  it('accepts whole dollars within the bounds', () => {
    expect(assertCheckoutAmount(10, bounds)).toBe(10);
    expect(assertCheckoutAmount(25_000, bounds)).toBe(25_000);
  });

  it.each([9, 25_001, 49.99, Number.NaN, -10])('rejects %s naming the range', (amount) => {
    const error = catchError(() => assertCheckoutAmount(amount, bounds));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({
      statusCode: 400,
      code: 'invalid_amount',
      message: 'amountUsd must be a whole number of dollars from 10 to 25000',
      details: { minUsd: 10, maxUsd: 25_000 },
    });
  });
});

describe('checkout idempotency key', () => {
  const base = { orgId: 'org_abcdef', userId: 'u1', amountUsd: 50, windowSeconds: 600 };

  it('is the same within a window and differs in the next one', () => {
    const start = 1_800_000_000_000 - (1_800_000_000_000 % 600_000);
    const first = checkoutIdempotencyKey({ ...base, nowMs: start });
    expect(checkoutIdempotencyKey({ ...base, nowMs: start + 599_999 })).toBe(first);
    expect(checkoutIdempotencyKey({ ...base, nowMs: start + 600_000 })).not.toBe(first);
  });

  it('differs per amount and per buyer', () => {
    const key = checkoutIdempotencyKey({ ...base, nowMs: 0 });
    expect(checkoutIdempotencyKey({ ...base, amountUsd: 51, nowMs: 0 })).not.toBe(key);
    expect(checkoutIdempotencyKey({ ...base, userId: 'u2', nowMs: 0 })).not.toBe(key);
  });
});

describe('creditable amount of a paid session', () => {
  it('is the USD subtotal in micros', () => {
    expect(creditableMicros({ currency: 'usd', amount_subtotal: 5000 })).toBe(50_000_000);
    expect(creditableMicros({ currency: 'USD', amount_subtotal: 1 })).toBe(10_000);
  });

  it('uses the USD source amount when Adaptive Pricing charged another currency', () => {
    const session = {
      currency: 'eur',
      amount_subtotal: 4_600,
      currency_conversion: { amount_subtotal: 5_000, source_currency: 'usd' },
    };
    expect(creditableMicros(session)).toBe(50_000_000);
  });

  it('is undefined for other currencies, a missing amount, or zero', () => {
    expect(creditableMicros({ currency: 'jpy', amount_subtotal: 5000 })).toBeUndefined();
    expect(creditableMicros({ currency: 'usd', amount_subtotal: null })).toBeUndefined();
    expect(creditableMicros({ currency: null, amount_subtotal: null })).toBeUndefined();
    expect(creditableMicros({ currency: 'usd', amount_subtotal: 0 })).toBeUndefined();
  });
});

describe('dispute policy', () => {
  it('revokes only when a dispute closes as lost', () => {
    expect(disputeRevokes('charge.dispute.closed', 'lost')).toBe(true);
    expect(disputeRevokes('charge.dispute.closed', 'won')).toBe(false);
    expect(disputeRevokes('charge.dispute.closed', 'warning_closed')).toBe(false);
    expect(disputeRevokes('charge.dispute.created', 'needs_response')).toBe(false);
  });
});

describe('month of a timestamp', () => {
  it('is the UTC calendar month', () => {
    expect(monthOf('2026-01-31T23:30:00-02:00')).toBe('2026-02');
    expect(monthOf('2025-12-31T23:59:59.999Z')).toBe('2025-12');
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('reversedShareMicros', () => {
  it('revokes the refunded share of what was credited, rounded down', () => {
    expect(reversedShareMicros(50_000_000, 1533, 4600)).toBe(16_663_043);
    expect(reversedShareMicros(50_000_000, 4600, 4600)).toBe(50_000_000);
  });

  it('stays exact where the product passes 2^53 (25,000 USD charged in KRW)', () => {
    // 17,032,096,275 * 6,251,599 / 33,225,036 = 3,204,747,047.99...; in floats it rounds up to 48.
    expect(Math.floor((17_032_096_275 * 6_251_599) / 33_225_036)).toBe(3_204_747_048);
    expect(reversedShareMicros(17_032_096_275, 6_251_599, 33_225_036)).toBe(3_204_747_047);
  });

  it('never revokes more than was credited, nor anything for nothing charged', () => {
    expect(reversedShareMicros(50_000_000, 9_000, 5_000)).toBe(50_000_000);
    expect(reversedShareMicros(50_000_000, 100, 0)).toBe(0);
  });
});

describe('cappedReversal', () => {
  it('revokes at most what the payment has left', () => {
    expect(
      cappedReversal(50_000_000, { creditedMicros: 50_000_000, reversedMicros: 30_000_000 }),
    ).toBe(20_000_000);
    expect(cappedReversal(5, { creditedMicros: 50_000_000, reversedMicros: 50_000_000 })).toBe(0);
  });
});

describe('sessionOutcome', () => {
  it.each([
    ['checkout.session.completed', 'paid', 'paid'],
    ['checkout.session.completed', 'unpaid', 'unpaid'],
    ['checkout.session.completed', 'no_payment_required', undefined],
    ['checkout.session.async_payment_succeeded', 'paid', 'paid'],
    ['checkout.session.async_payment_failed', 'unpaid', 'payment_failed'],
    ['checkout.session.expired', 'unpaid', 'expired'],
  ])('%s with %s is %s', (type, paymentStatus, outcome) => {
    expect(sessionOutcome(type, paymentStatus)).toBe(outcome);
  });
});

describe('Stripe idempotency keys', () => {
  it('stay within Stripe’s 255 characters for the longest ids and client keys', () => {
    const long = { orgId: `org_${'a'.repeat(64)}`, userId: 'u'.repeat(128) };
    const clientKey = 'k'.repeat(4096);
    expect(clientCheckoutIdempotencyKey({ ...long, clientKey }).length).toBeLessThanOrEqual(255);
    const windowed = checkoutIdempotencyKey({
      ...long,
      amountUsd: 25_000,
      nowMs: 0,
      windowSeconds: 600,
    });
    expect(windowed.length).toBeLessThanOrEqual(255);
  });

  it('tell apart client keys that share a long prefix', () => {
    const ids = { orgId: 'org_abcdef', userId: 'u1' };
    const prefix = 'p'.repeat(200);
    expect(clientCheckoutIdempotencyKey({ ...ids, clientKey: `${prefix}1` })).not.toBe(
      clientCheckoutIdempotencyKey({ ...ids, clientKey: `${prefix}2` }),
    );
  });
});
