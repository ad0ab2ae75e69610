import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  eventConsumer,
  metrics,
  recordCreditsPurchased,
  recordGitClaimMade,
} from '#platform/metrics';
import { emittedMetrics } from '#test/support/metrics';

afterEach(() => {
  vi.restoreAllMocks();
  metrics.clearMetrics();
});

describe('platform metrics', () => {
  it('writes a claim as gitClaimsMade with its provider dimension', async () => {
    const emitted = await emittedMetrics(async () => recordGitClaimMade('gitlab'));

    expect(emitted).toEqual([
      expect.objectContaining({ service: 'organizations', provider: 'gitlab', gitClaimsMade: 1 }),
    ]);
  });

  it('publishes buffered metrics after a consumer fails, so a retry does not count twice', async () => {
    const publish = vi.spyOn(metrics, 'publishStoredMetrics');
    const failing = eventConsumer(async (amount: number) => {
      recordCreditsPurchased(amount);
      throw new Error('transaction cancelled');
    });

    await expect(failing(1_000_000)).rejects.toThrow('transaction cancelled');

    expect(publish).toHaveBeenCalledTimes(1);
    expect(metrics.hasStoredMetrics()).toBe(false);
  });

  it('does not publish (nor warn) when an invocation recorded nothing', async () => {
    const publish = vi.spyOn(metrics, 'publishStoredMetrics');

    await eventConsumer(async () => 'nothing recorded')(undefined);

    expect(publish).not.toHaveBeenCalled();
  });
});
