import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { type DetailType, type EventDetail, eventCatalogue } from '#catalogue/events';
import { optionalEnv } from '#platform/config';
import { ServiceUnavailableError } from '#platform/errors';
import { eventBridgeClient } from '#platform/event-bridge';
import { logger } from '#platform/logger';

/**
 * Publishes events to the service bus. Each detail is validated against the catalogue first.
 * PutEvents can accept some entries and reject others: only the rejected ones are retried, and
 * if any still fail the caller gets a ServiceUnavailableError (so a webhook answers 5xx and the
 * sender retries; consumers are idempotent on the event ids).
 */
const busName = optionalEnv('EVENT_BUS_NAME', 'organizations');
const maxAttempts = 3;
const maxEntriesPerCall = 10;

export interface OutgoingEvent<T extends DetailType = DetailType> {
  detailType: T;
  detail: EventDetail<T>;
}

export function event<T extends DetailType>(detailType: T, detail: EventDetail<T>): OutgoingEvent {
  return { detailType, detail } as OutgoingEvent;
}

export async function publishEvents(events: OutgoingEvent[]): Promise<void> {
  const entries: PutEventsRequestEntry[] = events.map(({ detailType, detail }) => {
    const spec = eventCatalogue[detailType];
    const parsed = spec.detail.parse(detail);
    return {
      EventBusName: busName,
      Source: spec.source,
      DetailType: detailType,
      Detail: JSON.stringify(parsed),
    };
  });

  for (let start = 0; start < entries.length; start += maxEntriesPerCall) {
    await putWithRetry(entries.slice(start, start + maxEntriesPerCall));
  }
}

async function putWithRetry(entries: PutEventsRequestEntry[]): Promise<void> {
  let pending = entries;
  for (let attempt = 1; attempt <= maxAttempts && pending.length > 0; attempt++) {
    const result = await eventBridgeClient.send(new PutEventsCommand({ Entries: pending }));
    if (!result.FailedEntryCount) return;

    const failed = pending.filter((_, index) => result.Entries?.[index]?.ErrorCode);
    logger.warn('PutEvents rejected some entries', {
      attempt,
      failed: failed.length,
      errorCodes: result.Entries?.map((e) => e.ErrorCode).filter(Boolean),
    });
    pending = failed;
    if (attempt < maxAttempts) await sleep(50 * 2 ** attempt);
  }
  if (pending.length > 0) {
    throw new ServiceUnavailableError('Could not publish events; please retry');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
