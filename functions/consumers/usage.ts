import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { eventCatalogue } from '#catalogue/events';
import { chargeUsageBatch, type Usage } from '#data/usage';
import { logger } from '#platform/logger';
import { eventConsumer, recordUsageCharged } from '#platform/metrics';

/**
 * Usage consumer (rule UsageCharging -> queue -> this function, in batches). Each SQS record's
 * body is the EventBridge envelope of one `UsageRecorded`. Records are grouped by organization
 * and each organization's usage is charged in one transaction per chunk (see data/usage), so a
 * usage id is charged once however often it is delivered. Records that cannot be applied are
 * reported in `batchItemFailures` and retried alone; a record that never parses ends in the
 * queue's dead-letter queue after its receives run out.
 */
const envelope = z.object({ 'detail-type': z.literal('UsageRecorded'), detail: z.unknown() });

export const handler = eventConsumer(chargeUsageRecords);

async function chargeUsageRecords(event: SQSEvent): Promise<SQSBatchResponse> {
  const failures = new Set<string>();
  const byOrg = new Map<string, { usage: Usage; messageId: string }[]>();

  for (const record of event.Records) {
    const usage = parseRecord(record.body);
    if (!usage) {
      logger.error('Unparseable usage record', { messageId: record.messageId });
      failures.add(record.messageId);
      continue;
    }
    const group = byOrg.get(usage.orgId) ?? [];
    group.push({ usage, messageId: record.messageId });
    byOrg.set(usage.orgId, group);
  }

  await Promise.all(
    [...byOrg].map(async ([orgId, records]) => {
      try {
        const result = await chargeUsageBatch(
          orgId,
          records.map((record) => record.usage),
        );
        const costs = new Map(records.map(({ usage }) => [usage.usageId, usage.costMicros]));
        for (const usageId of result.charged) recordUsageCharged(costs.get(usageId) ?? 0);
        logger.info('Usage charged', {
          orgId,
          charged: result.charged.length,
          duplicates: result.duplicates.length,
        });
      } catch (error) {
        // Charged chunks carry markers, so retrying the whole group charges nothing twice.
        logger.error('Usage charging failed', { orgId, errorName: (error as Error).name });
        for (const record of records) failures.add(record.messageId);
      }
    }),
  );

  return { batchItemFailures: [...failures].map((itemIdentifier) => ({ itemIdentifier })) };
}

function parseRecord(body: string): Usage | undefined {
  try {
    const parsed = envelope.parse(JSON.parse(body));
    return eventCatalogue.UsageRecorded.detail.parse(parsed.detail);
  } catch {
    return undefined;
  }
}
