import { performance } from 'node:perf_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Counts the AWS calls the handlers make, with a middleware on the service's own SDK clients
 * (`#platform/aws-clients`, `#platform/event-bridge`), so nothing in the handlers changes. A call is one `send` (retries
 * inside the SDK are not separate calls). `rounds` counts sequential round trips: calls that
 * overlap in time (Promise.all) are one round.
 */
export interface RecordedCall {
  service: 'dynamodb' | 'events';
  operation: string;
  input: Record<string, unknown>;
  start: number;
  end: number;
  ok: boolean;
}

export interface CallCounter {
  calls: RecordedCall[];
  reset: () => void;
}

export function installCounter(clients: {
  dynamoClient: DynamoDBClient;
  documentClient: DynamoDBDocumentClient;
  eventBridgeClient: EventBridgeClient;
}): CallCounter {
  const counter: CallCounter = {
    calls: [],
    reset: () => {
      counter.calls = [];
    },
  };
  const stacks: Array<[{ middlewareStack: unknown }, RecordedCall['service']]> = [
    [clients.dynamoClient, 'dynamodb'],
    [clients.eventBridgeClient, 'events'],
  ];
  // The document client normally shares its inner client's stack; count it once either way.
  if (clients.documentClient.middlewareStack !== clients.dynamoClient.middlewareStack) {
    stacks.push([clients.documentClient, 'dynamodb']);
  }
  for (const [client, service] of stacks) {
    const stack = client.middlewareStack as {
      add: (middleware: unknown, options: { step: string; name: string }) => void;
    };
    stack.add(
      (next: (args: { input: Record<string, unknown> }) => Promise<unknown>, context: unknown) =>
        async (args: { input: Record<string, unknown> }) => {
          const name = String((context as { commandName?: string }).commandName ?? 'Unknown');
          const call: RecordedCall = {
            service,
            operation: operationName(name),
            input: args.input,
            start: performance.now(),
            end: 0,
            ok: false,
          };
          counter.calls.push(call);
          try {
            const output = await next(args);
            call.ok = true;
            return output;
          } finally {
            call.end = performance.now();
          }
        },
      { step: 'initialize', name: 'benchCallCounter' },
    );
  }
  return counter;
}

/** `GetCommand` (document client) and `GetItemCommand` both count as GetItem. */
function operationName(commandName: string): string {
  const bare = commandName.replace(/Command$/, '');
  const documentNames: Record<string, string> = {
    Get: 'GetItem',
    Put: 'PutItem',
    Update: 'UpdateItem',
    Delete: 'DeleteItem',
    BatchGet: 'BatchGetItem',
    BatchWrite: 'BatchWriteItem',
    TransactGet: 'TransactGetItems',
    TransactWrite: 'TransactWriteItems',
  };
  return documentNames[bare] ?? bare;
}

export interface CallSummary {
  dynamo: number;
  events: number;
  rounds: number;
  operations: string;
}

export function summarise(calls: RecordedCall[]): CallSummary {
  const sorted = [...calls].sort((a, b) => a.start - b.start);
  let rounds = 0;
  let busyUntil = Number.NEGATIVE_INFINITY;
  for (const call of sorted) {
    if (call.start >= busyUntil) rounds++;
    busyUntil = Math.max(busyUntil, call.end);
  }
  const counts = new Map<string, number>();
  for (const call of sorted) counts.set(call.operation, (counts.get(call.operation) ?? 0) + 1);
  return {
    dynamo: calls.filter((call) => call.service === 'dynamodb').length,
    events: calls.filter((call) => call.service === 'events').length,
    rounds,
    operations: [...counts].map(([op, n]) => (n > 1 ? `${op}x${n}` : op)).join(', ') || '-',
  };
}

/** Whether a TransactWriteItems input writes the BALANCE item (marshalled or not). */
export function writesBalance(call: RecordedCall): boolean {
  if (call.operation !== 'TransactWriteItems') return false;
  const items = (call.input.TransactItems as Array<Record<string, { Key?: unknown }>>) ?? [];
  return items.some((item) => {
    const key = (item.Update?.Key ?? item.Put?.Key) as Record<string, unknown> | undefined;
    const sk = key?.sk;
    return sk === 'BALANCE' || (sk as { S?: string } | undefined)?.S === 'BALANCE';
  });
}
