import type { APIGatewayProxyEventV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';

/**
 * Handlers the local-stack tests mount through route and rule lists of their own, so they can
 * see exactly what the local API Gateway and event bus hand to a function. Deliveries are kept
 * on globalThis because the bus imports this module by file URL.
 */
export interface RecordedDelivery {
  handler: string;
  payload: unknown;
}

const store = globalThis as typeof globalThis & { localStackDeliveries?: RecordedDelivery[] };

export function recordedDeliveries(): RecordedDelivery[] {
  store.localStackDeliveries ??= [];
  return store.localStackDeliveries;
}

function record(handler: string, payload: unknown): void {
  recordedDeliveries().push({ handler, payload });
}

/** Answers with the event it received. */
export async function echo(event: APIGatewayProxyEventV2) {
  return {
    statusCode: 200,
    headers: { 'Content-Type': 'application/json', 'X-Echo': 'yes' },
    body: JSON.stringify(event),
  };
}

export async function explode(): Promise<never> {
  throw new Error('secret table arn:aws:dynamodb:us-east-1:123:table/x');
}

/** A `lambda` rule consumer: fails every attempt when the detail asks it to. */
export async function recordEvent(event: { id: string; detail: { fail?: boolean } }) {
  record('recordEvent', event);
  if (event.detail.fail) throw new Error('consumer failure requested by the test');
}

/**
 * A `queue` rule consumer: reports a message as failed while its receive count is below the
 * detail's `succeedOnReceive` (0 = never succeeds).
 */
export async function recordBatch(event: SQSEvent): Promise<SQSBatchResponse> {
  record('recordBatch', event);
  const batchItemFailures = event.Records.filter((message) => {
    const { detail } = JSON.parse(message.body) as { detail: { succeedOnReceive?: number } };
    const receiveCount = Number(message.attributes.ApproximateReceiveCount);
    const succeedOnReceive = detail.succeedOnReceive ?? 1;
    return succeedOnReceive === 0 || receiveCount < succeedOnReceive;
  }).map((message) => ({ itemIdentifier: message.messageId }));
  return { batchItemFailures };
}
