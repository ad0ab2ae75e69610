import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '#platform/aws-clients';
import { logger } from '#platform/logger';

/**
 * Runs one DynamoDB transaction, retrying what is temporary (another transaction touched the same
 * item, throttling) and reporting what is final: the indexes of the items whose condition failed,
 * read from `CancellationReasons` (never from the message). A condition failure is the caller's
 * to interpret (usually "already applied").
 */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export type TransactOutcome =
  | { ok: true }
  | { ok: false; failedConditions: number[]; error: TransactionCanceledException };

const retryableCancellations = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);
const retryableErrors = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TransactionInProgressException',
  'InternalServerError',
]);

export const maxTransactAttempts = 10;

export async function transactWithRetry(items: TransactItem[]): Promise<TransactOutcome> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= maxTransactAttempts; attempt++) {
    try {
      await documentClient.send(new TransactWriteCommand({ TransactItems: items }));
      return { ok: true };
    } catch (error) {
      lastError = error;
      const codes = cancellationCodes(error);
      if (codes) {
        const failedConditions = codes.flatMap((code, index) =>
          code === 'ConditionalCheckFailed' ? [index] : [],
        );
        if (failedConditions.length > 0) {
          return { ok: false, failedConditions, error: error as TransactionCanceledException };
        }
        if (!codes.some((code) => code && retryableCancellations.has(code))) throw error;
      } else if (!retryableErrors.has((error as Error).name)) {
        throw error;
      }
      logger.info('Transaction retried', { attempt, reasons: codes ?? (error as Error).name });
      await sleep(backoffMs(attempt));
    }
  }
  throw lastError;
}

/**
 * Runs a transaction like `transactWithRetry` and, when conditions fail, throws the error that
 * `reasons` gives for the first failed item it knows (a domain error, e.g. 409), else a plain
 * error naming the items.
 */
export async function transactOrThrow(
  items: TransactItem[],
  reasons: Record<number, (error: TransactionCanceledException) => Error>,
): Promise<void> {
  const outcome = await transactWithRetry(items);
  if (outcome.ok) return;
  for (const index of outcome.failedConditions) {
    const reason = reasons[index];
    if (reason) throw reason(outcome.error);
  }
  throw new Error(`Transaction conditions failed at items ${outcome.failedConditions.join(', ')}`);
}

/** Cancellation reason codes by item index, or undefined when the error is not a cancellation. */
export function cancellationCodes(error: unknown): (string | undefined)[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  return (error.CancellationReasons ?? []).map((reason) =>
    reason.Code === 'None' ? undefined : reason.Code,
  );
}

/** Exponential backoff with full jitter, capped at one second. */
function backoffMs(attempt: number): number {
  return Math.random() * Math.min(1000, 20 * 2 ** attempt);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
