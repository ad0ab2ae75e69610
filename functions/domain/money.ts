/**
 * Money rules (DESIGN §4). One credit is one US dollar; every amount inside the service is an
 * integer number of micro-dollars. No floats: conversions use integer arithmetic (BigInt where
 * a product could pass 2^53) and reject anything that is not a safe integer.
 */
export const microsPerDollar = 1_000_000;

/** ISO 4217 minor-unit exponents where Stripe's differs from 2. */
const zeroDecimal = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);
const threeDecimal = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

export function currencyExponent(currency: string): number {
  const code = currency.toLowerCase();
  if (zeroDecimal.has(code)) return 0;
  if (threeDecimal.has(code)) return 3;
  return 2;
}

export function assertMicros(value: number, what = 'amount'): number {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${what} must be a safe integer`);
  return value;
}

/** Converts an amount in a currency's minor units (Stripe's integers) to micro-units. */
export function minorUnitsToMicros(amountMinor: number, currency: string): number {
  assertMicros(amountMinor, 'amountMinor');
  const exponent = currencyExponent(currency);
  const micros = BigInt(amountMinor) * 10n ** BigInt(6 - exponent);
  if (micros > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('amount too large');
  return Number(micros);
}

export function dollarsToMicros(dollars: number): number {
  if (!Number.isSafeInteger(dollars)) throw new RangeError('dollars must be a whole number');
  return dollars * microsPerDollar;
}

/** Converts whole dollars to the minor units Stripe expects for `currency`. */
export function dollarsToMinorUnits(dollars: number, currency: string): number {
  if (!Number.isSafeInteger(dollars)) throw new RangeError('dollars must be a whole number');
  return dollars * 10 ** currencyExponent(currency);
}

/**
 * Formats micros as a decimal string of dollars with at least two and at most six fraction
 * digits: 50000000 -> "50.00", 1234567 -> "1.234567", -500000 -> "-0.50".
 */
export function formatMicros(micros: number): string {
  assertMicros(micros);
  const negative = micros < 0;
  const abs = BigInt(Math.abs(micros));
  const whole = abs / 1_000_000n;
  let fraction = (abs % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  if (fraction.length < 2) fraction = fraction.padEnd(2, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/**
 * A share of a total in basis points (1/100 of a percent), as a decimal string percentage with
 * two fraction digits, computed in integers: share(1, 3) -> "33.33".
 */
export function formatShare(part: number, total: number): string {
  if (total <= 0) return '0.00';
  const basisPoints = (BigInt(part) * 10_000n + BigInt(total) / 2n) / BigInt(total);
  const whole = basisPoints / 100n;
  const fraction = (basisPoints % 100n).toString().padStart(2, '0');
  return `${whole}.${fraction}`;
}
