import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  metricsCatalogue,
  type WebhookRejectionReason,
  type WebhookSender,
} from '#catalogue/metrics';
import { logger } from '#platform/logger';

/**
 * Business metrics as CloudWatch Embedded Metric Format lines (Powertools), named in
 * `#catalogue/metrics` so the monitoring stack alarms on the same names. Amounts are buffered and
 * written once per invocation by `publishMetrics` (the HTTP edge and `publishingMetrics` call
 * it); metrics with their own dimensions are written at once. POWERTOOLS_METRICS_DISABLED=true
 * (tests) turns all output off.
 */
const { names } = metricsCatalogue;

export const metrics = new Metrics({
  namespace: metricsCatalogue.namespace,
  serviceName: metricsCatalogue.serviceName,
});

/** Credits granted for a paid Checkout Session (only when applied, not for duplicates). */
export function recordCreditsPurchased(amountMicros: number): void {
  metrics.addMetric(names.creditsPurchasedMicros, MetricUnit.Count, amountMicros);
}

/** Usage newly charged to an organization (duplicates excluded). */
export function recordUsageCharged(costMicros: number): void {
  metrics.addMetric(names.usageChargedMicros, MetricUnit.Count, costMicros);
}

export function recordWebhookRejected(sender: WebhookSender, reason: WebhookRejectionReason): void {
  const single = metrics.singleMetric();
  single.addDimensions({ sender, reason });
  single.addMetric(names.webhookRejected, MetricUnit.Count, 1);
}

export function recordGitClaimMade(provider: 'github' | 'gitlab'): void {
  const single = metrics.singleMetric();
  single.addDimension('provider', provider);
  single.addMetric(names.gitClaimsMade, MetricUnit.Count, 1);
}

/** Writes the buffered metrics; a no-op (and no Powertools warning) when there are none. */
export function publishMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}

/**
 * Wraps an event consumer: each invocation starts with no log keys left from the previous one,
 * and its buffered metrics are written afterwards, even when it failed.
 */
export function eventConsumer<E, R>(handler: (event: E) => Promise<R>) {
  return async (event: E): Promise<R> => {
    logger.resetKeys();
    try {
      return await handler(event);
    } finally {
      publishMetrics();
    }
  };
}
