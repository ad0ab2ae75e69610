/**
 * The service's custom CloudWatch metrics (Embedded Metric Format, written by
 * `#platform/metrics`). The CDK monitoring stack alarms on them by these names and dimensions.
 */
export const metricsCatalogue = {
  namespace: 'OrganizationsService',
  /** Powertools adds it to every metric as the `service` dimension. */
  serviceName: 'organizations',
  names: {
    /** Credits granted by paid Checkout Sessions, integer micro-dollars (once per session). */
    creditsPurchasedMicros: 'creditsPurchasedMicros',
    /** Usage charged to organizations, integer micro-dollars (once per usage id). */
    usageChargedMicros: 'usageChargedMicros',
    /** Webhook deliveries answered 4xx, dimensions `sender` and `reason`. */
    webhookRejected: 'webhookRejected',
    /** Git organizations claimed, dimension `provider`. */
    gitClaimsMade: 'gitClaimsMade',
  },
  webhookSenders: ['stripe', 'github', 'gitlab'],
  /** `signature`: missing or wrong signature/token; `payload`: unreadable or invalid body. */
  webhookRejectionReasons: ['signature', 'payload', 'too_large'],
} as const;

export type WebhookSender = (typeof metricsCatalogue.webhookSenders)[number];
export type WebhookRejectionReason = (typeof metricsCatalogue.webhookRejectionReasons)[number];
