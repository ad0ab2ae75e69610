import { describe, expect, it } from 'vitest';
import {
  assertCheckoutAmount,
  checkoutIdempotencyKey,
  creditableMicros,
  disputeRevokes,
  monthOf,
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
