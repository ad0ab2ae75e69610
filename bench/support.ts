import { existsSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/**
 * Small helpers shared by the bench sections: medians and ratios (these machines are noisy, so
 * nothing here reports a single absolute time as a result), markdown tables, and the check that
 * a catalogue entry exists yet.
 */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function entryExists(entry: string): boolean {
  return existsSync(path.resolve(repoRoot, entry));
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

/** Runs `a` and `b` alternately (`a` first on even rounds) and returns both medians. */
export async function interleaved(
  rounds: number,
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
): Promise<{ a: number; b: number; ratio: number }> {
  const timesA: number[] = [];
  const timesB: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? [a, b] : [b, a];
    for (const fn of order) {
      const { ms } = await timed(fn);
      (fn === a ? timesA : timesB).push(ms);
    }
  }
  const medianA = median(timesA);
  const medianB = median(timesB);
  return { a: medianA, b: medianB, ratio: medianA / medianB };
}

export function markdownTable(headers: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export function verdict(value: number, target: number): string {
  if (Number.isNaN(value)) return 'n/a';
  return value <= target ? 'met' : 'missed';
}

/** A scaled iteration count: BENCH_SCALE=0.2 for a quick smoke run. */
export function scaled(count: number, minimum = 1): number {
  const scale = Number(process.env.BENCH_SCALE ?? '1');
  return Math.max(minimum, Math.round(count * (Number.isFinite(scale) ? scale : 1)));
}

export function section(title: string): void {
  console.log(`\n## ${title}\n`);
}
