import type { EventBridgeEvent } from 'aws-lambda';
import { eventCatalogue } from '#catalogue/events';
import { closeCheckoutSession, grantPurchasedCredits, revokeCredits } from '#data/credits';
import { logger } from '#platform/logger';
import { eventConsumer, recordCreditsPurchased } from '#platform/metrics';

/**
 * Credit ledger consumer (rule CreditLedger): tops up on `CreditPurchasePaid`, revokes on
 * `CreditPurchaseReversed`, records sessions that ended without money on `CheckoutSessionClosed`.
 * Events that must not change a balance (an unknown session or payment, a reversal beyond what
 * the payment credited) are acknowledged with their result and logged, never retried. Each change is one transaction with its idempotency marker, so
 * EventBridge's at-least-once delivery and Lambda's async retries never apply a change twice.
 * Anything unparseable throws: after the retries it lands in the dead-letter queue.
 */
export const handler = eventConsumer(applyCreditEvent);

async function applyCreditEvent(
  incoming: EventBridgeEvent<string, unknown>,
): Promise<{ result: string }> {
  const detailType = incoming['detail-type'];
  if (detailType === 'CreditPurchasePaid') {
    const detail = eventCatalogue.CreditPurchasePaid.detail.parse(incoming.detail);
    logger.appendKeys({ orgId: detail.orgId, eventId: detail.eventId });
    const result = await grantPurchasedCredits(detail);
    if (result === 'applied') recordCreditsPurchased(detail.amountMicros);
    logger.info('Credit purchase applied', { result, amountMicros: detail.amountMicros });
    return { result };
  }
  if (detailType === 'CreditPurchaseReversed') {
    const detail = eventCatalogue.CreditPurchaseReversed.detail.parse(incoming.detail);
    logger.appendKeys({ orgId: detail.orgId, eventId: detail.eventId });
    const result = await revokeCredits(detail);
    logger.info('Credit reversal applied', { result, reason: detail.reason });
    return { result };
  }
  if (detailType === 'CheckoutSessionClosed') {
    const detail = eventCatalogue.CheckoutSessionClosed.detail.parse(incoming.detail);
    logger.appendKeys({ orgId: detail.orgId, eventId: detail.eventId });
    const result = await closeCheckoutSession(detail);
    logger.info('Checkout session outcome recorded', { result, status: detail.status });
    return { result };
  }
  throw new Error(`Credit ledger does not handle detail-type ${detailType}`);
}
