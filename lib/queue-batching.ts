/**
 * How a queue rule's consumer receives its messages, shared by the CDK events stack and the
 * local event bus so both deliver the same batches. The usage consumer writes the organization's
 * BALANCE item once per transaction chunk, so bigger batches mean fewer writes to that hot item:
 * 100 events from up to ~50 members fit in one or two transactions (data/usage.ts). Lambda takes
 * more than 10 records per batch from a standard queue only with a batching window.
 */
export const queueBatching = {
  batchSize: 100,
  maxBatchingWindowSeconds: 1,
} as const;
