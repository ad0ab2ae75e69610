import { randomUUID } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EventRule } from '#catalogue/events';
import { type LocalEventBus, startEventBus } from '#local/event-bus';
import { recordedDeliveries } from './local-fixture-handlers.ts';

/**
 * The EventBridge stand-in, driven by the real EventBridge client, with rules of the test's own
 * pointing at recording consumers (local-fixture-handlers.ts).
 */
const fixtures = 'test/integration/local-fixture-handlers.ts';
const busName = 'local-bus-test';

const testRules = [
  {
    name: 'TestLambdaRule',
    source: 'test.lambda',
    detailTypes: ['Recorded'],
    consumer: { entry: fixtures, handler: 'recordEvent' },
    delivery: 'lambda',
    access: { table: 'read' },
  },
  {
    name: 'TestQueueRule',
    source: 'test.queue',
    detailTypes: ['Batched'],
    consumer: { entry: fixtures, handler: 'recordBatch' },
    delivery: 'queue',
    access: { table: 'read' },
  },
  {
    name: 'TestUnwrittenConsumer',
    source: 'test.unwritten',
    detailTypes: ['Orphan'],
    consumer: { entry: 'functions/consumers/not-written-yet.ts', handler: 'handler' },
    delivery: 'lambda',
    access: { table: 'read' },
  },
] as unknown as EventRule[];

let bus: LocalEventBus;
let client: EventBridgeClient;

beforeAll(async () => {
  bus = await startEventBus({
    port: 0,
    busName,
    rules: testRules,
    retryDelaysMs: [10, 10],
    visibilityTimeoutMs: 10,
    batchWindowMs: 5,
  });
  client = new EventBridgeClient({
    endpoint: bus.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  client.destroy();
  await bus.close();
});

beforeEach(() => {
  recordedDeliveries().length = 0;
});

function entry(source: string, detailType: string, detail: unknown) {
  return {
    EventBusName: busName,
    Source: source,
    DetailType: detailType,
    Detail: JSON.stringify(detail),
  };
}

function deliveriesTo(handler: string, marker: string) {
  return recordedDeliveries().filter(
    (d) => d.handler === handler && JSON.stringify(d.payload).includes(marker),
  );
}

describe('local event bus: PutEvents', () => {
  it('accepts well-formed entries and rejects a non-JSON detail with MalformedDetail', async () => {
    const marker = randomUUID();

    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          entry('test.lambda', 'Recorded', { marker }),
          { EventBusName: busName, Source: 'test.lambda', DetailType: 'Recorded', Detail: '{oops' },
          { EventBusName: busName, DetailType: 'Recorded', Detail: '{}' },
        ],
      }),
    );

    expect(result.FailedEntryCount).toBe(2);
    expect(result.Entries?.[0]?.EventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.Entries?.[1]).toMatchObject({ ErrorCode: 'MalformedDetail' });
    expect(result.Entries?.[2]).toMatchObject({ ErrorCode: 'InvalidArgument' });
    expect(await bus.waitForIdle(5000)).toBe(true);
    expect(deliveriesTo('recordEvent', marker)).toHaveLength(1);
  });

  it('rejects a request with more than ten entries as the real API does', async () => {
    const entries = Array.from({ length: 11 }, () => entry('test.other', 'X', {}));

    await expect(client.send(new PutEventsCommand({ Entries: entries }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });
});

describe('local event bus: lambda rules', () => {
  it('invokes the consumer with the EventBridge envelope of a matching event only', async () => {
    const marker = randomUUID();

    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          entry('test.lambda', 'Recorded', { marker }),
          entry('test.lambda', 'NotInTheRule', { marker }),
          entry('test.other', 'Recorded', { marker }),
        ],
      }),
    );
    await bus.waitForIdle(5000);

    const deliveries = deliveriesTo('recordEvent', marker);
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]?.payload).toEqual({
      version: '0',
      id: result.Entries?.[0]?.EventId,
      'detail-type': 'Recorded',
      source: 'test.lambda',
      account: '000000000000',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      region: 'us-east-1',
      resources: [],
      detail: { marker },
    });
  });

  it('retries a failing consumer twice with the same event and then dead-letters it', async () => {
    const marker = randomUUID();

    const result = await client.send(
      new PutEventsCommand({ Entries: [entry('test.lambda', 'Recorded', { marker, fail: true })] }),
    );
    await bus.waitForIdle(5000);

    const attempts = deliveriesTo('recordEvent', marker);
    expect(attempts.map((a) => (a.payload as { id: string }).id)).toEqual(
      Array(3).fill(result.Entries?.[0]?.EventId),
    );
    const deadLetters = (await (await fetch(`${bus.url}/_local/dead-letters`)).json()) as {
      deadLetters: Array<{ rule: string; attempts: number; error: string; event: { id: string } }>;
    };
    const ours = deadLetters.deadLetters.filter((d) => d.event.id === result.Entries?.[0]?.EventId);
    expect(ours).toEqual([
      expect.objectContaining({
        rule: 'TestLambdaRule',
        attempts: 3,
        error: 'consumer failure requested by the test',
      }),
    ]);
  });

  it('only logs an event whose rule has no consumer module yet', async () => {
    const marker = randomUUID();

    await client.send(
      new PutEventsCommand({ Entries: [entry('test.unwritten', 'Orphan', { marker })] }),
    );

    expect(bus.pending()).toBe(0);
    const logged = bus
      .events()
      .filter((l) => l.event.detail && JSON.stringify(l.event).includes(marker));
    expect(logged.map((l) => [l.rules, l.noConsumer])).toEqual([
      [['TestUnwrittenConsumer'], ['TestUnwrittenConsumer']],
    ]);
  });
});

describe('local event bus: queue rules', () => {
  it('hands a queue consumer more than ten messages per batch, as the deployed source does', async () => {
    const marker = randomUUID();
    // A bus of its own with a window long enough for three PutEvents calls to land in it.
    const batchingBus = await startEventBus({
      port: 0,
      busName,
      rules: testRules,
      batchWindowMs: 500,
    });
    const batchingClient = new EventBridgeClient({
      endpoint: batchingBus.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const tenEntries = () =>
        Array.from({ length: 10 }, () => entry('test.queue', 'Batched', { marker }));
      await Promise.all(
        [1, 2, 3].map(() => batchingClient.send(new PutEventsCommand({ Entries: tenEntries() }))),
      );
      expect(await batchingBus.waitForIdle(5000)).toBe(true);

      const batches = deliveriesTo('recordBatch', marker).map(
        (d) => (d.payload as SQSEvent).Records.length,
      );
      expect(batches).toEqual([30]);
    } finally {
      batchingClient.destroy();
      await batchingBus.close();
    }
  });

  it('redelivers only the messages reported in batchItemFailures', async () => {
    const marker = randomUUID();

    await client.send(
      new PutEventsCommand({
        Entries: [
          entry('test.queue', 'Batched', { marker, name: 'first-time', succeedOnReceive: 1 }),
          entry('test.queue', 'Batched', { marker, name: 'second-time', succeedOnReceive: 2 }),
        ],
      }),
    );
    expect(await bus.waitForIdle(5000)).toBe(true);

    const received = deliveriesTo('recordBatch', marker).flatMap((d) =>
      (d.payload as SQSEvent).Records.map((r) => {
        const { detail } = JSON.parse(r.body) as { detail: { name: string } };
        return `${detail.name}#${r.attributes.ApproximateReceiveCount}`;
      }),
    );
    expect(received.sort()).toEqual(['first-time#1', 'second-time#1', 'second-time#2']);
  });

  it('dead-letters a message that keeps failing after three receives', async () => {
    const marker = randomUUID();

    await client.send(
      new PutEventsCommand({
        Entries: [entry('test.queue', 'Batched', { marker, succeedOnReceive: 0 })],
      }),
    );
    await bus.waitForIdle(5000);

    expect(deliveriesTo('recordBatch', marker)).toHaveLength(3);
    const ours = bus.deadLetters().filter((d) => JSON.stringify(d.event).includes(marker));
    expect(ours.map((d) => [d.rule, d.delivery, d.attempts])).toEqual([
      ['TestQueueRule', 'queue', 3],
    ]);
  });

  it('hands the consumer an SQS event whose body is the EventBridge envelope', async () => {
    const marker = randomUUID();

    const result = await client.send(
      new PutEventsCommand({ Entries: [entry('test.queue', 'Batched', { marker })] }),
    );
    await bus.waitForIdle(5000);

    const [delivery] = deliveriesTo('recordBatch', marker);
    const record = (delivery?.payload as SQSEvent | undefined)?.Records[0];
    expect(record?.eventSource).toBe('aws:sqs');
    expect(record?.eventSourceARN).toBe('arn:aws:sqs:us-east-1:000000000000:TestQueueRuleQueue');
    expect(JSON.parse(record?.body ?? '{}')).toMatchObject({
      id: result.Entries?.[0]?.EventId,
      'detail-type': 'Batched',
      source: 'test.queue',
      detail: { marker },
    });
  });
});

describe('local event bus: inspection endpoints', () => {
  it('lists received events filtered by detail-type at /_local/events', async () => {
    const marker = randomUUID();
    await client.send(
      new PutEventsCommand({
        Entries: [
          entry('test.other', 'Listed', { marker }),
          entry('test.other', 'Other', { marker }),
        ],
      }),
    );

    const response = await fetch(`${bus.url}/_local/events?detail-type=Listed`);
    const { events } = (await response.json()) as {
      events: Array<{ event: { detail: { marker?: string } }; rules: string[] }>;
    };

    const ours = events.filter((l) => l.event.detail.marker === marker);
    expect(ours).toHaveLength(1);
    expect(ours[0]?.rules).toEqual([]);
  });

  it('answers /_local/idle once pending deliveries are done', async () => {
    await client.send(
      new PutEventsCommand({ Entries: [entry('test.lambda', 'Recorded', { marker: 'idle' })] }),
    );

    const response = await fetch(`${bus.url}/_local/idle?timeoutMs=5000`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ idle: true, pending: 0 });
  });
});
