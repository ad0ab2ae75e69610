import { vi } from 'vitest';

/**
 * The Embedded Metric Format lines Powertools writes to stdout while `act` runs, with metrics
 * switched on for the duration (test/support/env.ts switches them off). Restore with
 * `vi.restoreAllMocks()` and `vi.unstubAllEnvs()` after each test.
 */
export async function emittedMetrics(
  act: () => Promise<unknown>,
): Promise<Record<string, unknown>[]> {
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  const lines: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await act();
  } finally {
    write.mockRestore();
    vi.unstubAllEnvs();
  }
  return lines
    .flatMap((line) => line.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
