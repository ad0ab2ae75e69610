import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';

/**
 * Reads why a transaction was cancelled from its CancellationReasons (never from the message):
 * the indexes of the items whose condition failed.
 */
export function failedConditionIndexes(error: unknown): number[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  const reasons = error.CancellationReasons ?? [];
  return reasons.flatMap((reason, index) =>
    reason.Code === 'ConditionalCheckFailed' ? [index] : [],
  );
}

export function isConditionFailureAt(error: unknown, index: number): boolean {
  return failedConditionIndexes(error)?.includes(index) ?? false;
}
