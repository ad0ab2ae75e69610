import { en } from 'zod/locales';
import * as z from 'zod/mini';

// zod/mini loads no locale (every issue would read "Invalid input"): consumers log these.
z.config(en());

/**
 * Every event on the service's bus: its source, detail-type and the schema of its detail.
 * Publishers build details with these schemas and consumers parse them; the CDK events stack and
 * the local EventBridge stand-in build their rules from `eventRules` below.
 */
export const eventSources = {
  payments: 'payments',
  usage: 'usage',
  git: 'git',
  routing: 'routing',
} as const;

const id = z.string().check(z.minLength(1), z.maxLength(256));
const micros = z.number().check(z.int());
const isoTime = z.iso.datetime({ offset: true });
const gitProvider = z.enum(['github', 'gitlab']);
const nonEmpty = z.string().check(z.minLength(1));
const whole = z.number().check(z.int());
const wholeNonNegative = z.number().check(z.int(), z.nonnegative());

export const creditPurchasePaidDetail = z.object({
  eventId: id,
  orgId: id,
  checkoutSessionId: id,
  /** Credits to grant, integer micro-dollars, from what Stripe reports for the session. */
  amountMicros: micros.check(z.positive()),
  currency: z.string().check(z.length(3)),
  amountMinor: wholeNonNegative,
  /** What the buyer was charged (tax included), minor units of `currency`: disputes' base. */
  chargedMinor: z.optional(wholeNonNegative),
  paymentIntentId: z.optional(id),
  stripeEventId: id,
  occurredAt: isoTime,
});

export const creditPurchaseReversedDetail = z.object({
  eventId: id,
  orgId: id,
  reason: z.enum(['refund', 'dispute_lost', 'dispute_withdrawn']),
  /** Identifies this reversal (refund id, dispute id) so it is applied once. */
  reversalId: id,
  checkoutSessionId: z.optional(id),
  paymentIntentId: z.optional(id),
  amountMicros: micros.check(z.positive()),
  stripeEventId: id,
  occurredAt: isoTime,
});

/** A recorded Checkout Session that ended, or paused, without money arriving. */
export const checkoutSessionClosedDetail = z.object({
  eventId: id,
  orgId: id,
  checkoutSessionId: id,
  /** `unpaid`: completed, an asynchronous payment method still settling. */
  status: z.enum(['expired', 'payment_failed', 'unpaid']),
  stripeEventId: id,
  occurredAt: isoTime,
});

export const usageRecordedDetail = z.object({
  /** The runtime's id for this usage record; charging is idempotent on it. */
  usageId: id,
  orgId: id,
  userId: id,
  costMicros: micros.check(z.nonnegative()),
  model: z.optional(z.string().check(z.maxLength(256))),
  occurredAt: isoTime,
});

export const gitOrganizationClaimDetail = z.object({
  eventId: id,
  orgId: id,
  claimId: id,
  provider: gitProvider,
  gitOrgId: id,
  login: nonEmpty,
  userId: id,
});

export const gitOrganizationRenamedDetail = z.object({
  eventId: id,
  provider: gitProvider,
  gitOrgId: id,
  oldLogin: nonEmpty,
  newLogin: nonEmpty,
});

export const gitOrganizationGoneDetail = z.object({
  eventId: id,
  provider: gitProvider,
  gitOrgId: id,
  login: z.optional(nonEmpty),
});

export const gitMembershipChangedDetail = z.object({
  eventId: id,
  provider: gitProvider,
  gitOrgId: id,
  login: z.optional(nonEmpty),
  memberLogin: z.optional(nonEmpty),
  action: nonEmpty,
});

export const resolverRequestedDetail = z.object({
  eventId: id,
  provider: gitProvider,
  /** `owner/name` (GitHub) or `group/sub/name` (GitLab), as the provider spells it. */
  repository: z.string().check(z.minLength(3)),
  requesterLogin: nonEmpty,
  requesterId: z.optional(id),
  issueNumber: z.optional(whole),
  commentUrl: z.optional(z.string()),
  commentBody: z.optional(z.string().check(z.maxLength(65536))),
});

export const resolverRoutedDetail = z.object({
  eventId: id,
  requestEventId: id,
  orgId: id,
  provider: gitProvider,
  repository: z.string(),
  requesterLogin: z.string(),
  userId: id,
});

export const resolverRejectedDetail = z.object({
  eventId: id,
  requestEventId: id,
  reason: z.enum(['unclaimed', 'not_member', 'claim_suspended', 'insufficient_credits']),
  orgId: z.optional(id),
  provider: gitProvider,
  repository: z.string(),
  requesterLogin: z.string(),
});

/** detail-type -> source and detail schema. */
export const eventCatalogue = {
  CreditPurchasePaid: { source: eventSources.payments, detail: creditPurchasePaidDetail },
  CreditPurchaseReversed: { source: eventSources.payments, detail: creditPurchaseReversedDetail },
  CheckoutSessionClosed: { source: eventSources.payments, detail: checkoutSessionClosedDetail },
  UsageRecorded: { source: eventSources.usage, detail: usageRecordedDetail },
  GitOrganizationClaimed: { source: eventSources.git, detail: gitOrganizationClaimDetail },
  GitOrganizationUnclaimed: { source: eventSources.git, detail: gitOrganizationClaimDetail },
  GitOrganizationRenamed: { source: eventSources.git, detail: gitOrganizationRenamedDetail },
  GitOrganizationDeleted: { source: eventSources.git, detail: gitOrganizationGoneDetail },
  GitAppUninstalled: { source: eventSources.git, detail: gitOrganizationGoneDetail },
  GitMembershipChanged: { source: eventSources.git, detail: gitMembershipChangedDetail },
  ResolverRequested: { source: eventSources.git, detail: resolverRequestedDetail },
  ResolverRouted: { source: eventSources.routing, detail: resolverRoutedDetail },
  ResolverRejected: { source: eventSources.routing, detail: resolverRejectedDetail },
} as const;

export type DetailType = keyof typeof eventCatalogue;
export type EventDetail<T extends DetailType> = z.infer<(typeof eventCatalogue)[T]['detail']>;

export interface EventRule {
  /** Stable rule name, also the construct id in CDK. */
  name: string;
  source: string;
  detailTypes: DetailType[];
  /** The consumer: module path from the repository root and its exported handler. */
  consumer: { entry: string; handler: string };
  /**
   * `lambda`: the rule invokes the function asynchronously (DLQ on the target).
   * `queue`: the rule sends to an SQS queue the function drains in batches (DLQ on the queue).
   */
  delivery: 'lambda' | 'queue';
  /** What the consumer touches, for least-privilege grants. */
  access: { table: 'read' | 'readwrite'; publishes?: boolean };
}

export const eventRules: EventRule[] = [
  {
    name: 'CreditLedger',
    source: eventSources.payments,
    detailTypes: ['CreditPurchasePaid', 'CreditPurchaseReversed', 'CheckoutSessionClosed'],
    consumer: { entry: 'functions/consumers/credit-ledger.ts', handler: 'handler' },
    delivery: 'lambda',
    access: { table: 'readwrite' },
  },
  {
    name: 'UsageCharging',
    source: eventSources.usage,
    detailTypes: ['UsageRecorded'],
    consumer: { entry: 'functions/consumers/usage.ts', handler: 'handler' },
    delivery: 'queue',
    access: { table: 'readwrite' },
  },
  {
    name: 'GitClaimMaintenance',
    source: eventSources.git,
    detailTypes: [
      'GitOrganizationRenamed',
      'GitOrganizationDeleted',
      'GitAppUninstalled',
      'GitMembershipChanged',
    ],
    consumer: { entry: 'functions/consumers/git-claims.ts', handler: 'handler' },
    delivery: 'lambda',
    access: { table: 'readwrite' },
  },
  {
    name: 'ResolverRouting',
    source: eventSources.git,
    detailTypes: ['ResolverRequested'],
    consumer: { entry: 'functions/consumers/resolver-routing.ts', handler: 'handler' },
    delivery: 'lambda',
    access: { table: 'read', publishes: true },
  },
];
