import { describe, expect, it } from 'vitest';
import { formatMicros, formatShare, minorUnitsToMicros } from '#domain/money';

describe('money', () => {
  it('converts Stripe minor units with the currency exponent', () => {
    expect(minorUnitsToMicros(5000, 'usd')).toBe(50_000_000);
    expect(minorUnitsToMicros(5000, 'JPY')).toBe(5_000_000_000);
    expect(minorUnitsToMicros(5000, 'kwd')).toBe(5_000_000);
  });

  it('formats micros as decimal dollar strings without floats', () => {
    expect(formatMicros(50_000_000)).toBe('50.00');
    expect(formatMicros(1_234_567)).toBe('1.234567');
    expect(formatMicros(-500_000)).toBe('-0.50');
    expect(formatMicros(0)).toBe('0.00');
  });

  it('computes shares in integer basis points', () => {
    expect(formatShare(1, 3)).toBe('33.33');
    expect(formatShare(2, 3)).toBe('66.67');
    expect(formatShare(5, 0)).toBe('0.00');
  });
});
