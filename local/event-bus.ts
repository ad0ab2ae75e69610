import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventBridgeEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type EventRule, eventRules } from '#catalogue/events';
import { queueBatching } from '#lib/queue-batching';
import { localSettings } from '#local/config';
import { handlerExists, lambdaContext, loadHandler } from '#local/lambda';

/**
 * The local EventBridge: speaks the PutEvents wire protocol (AWS JSON 1.1), so the real
 * EventBridge client with `endpoint` pointed here works unchanged, and routes each event to the
 * consumers of the rules it matches (source + detail-type), as the CDK events stack does:
 *
 * - `lambda` rules invoke the consumer asynchronously with the EventBridge envelope, retrying
 *   twice on error (Lambda's async retries, with short local delays) and then dead-lettering;
 * - `queue` rules batch events into SQS events and honour `batchItemFailures`: failed messages
 *   come back until their receive count reaches `maxReceiveCount`, then are dead-lettered.
 *
 * It also keeps a bounded log of received events for the demo and tests:
 * `GET /_local/events`, `GET /_local/dead-letters`, `GET /_local/idle?timeoutMs=`.
 */
export interface EventBusOptions {
  port?: number;
  host?: string;
  busName?: string;
  rules?: EventRule[];
  region?: string;
  /** Waits before each retry of an asynchronous Lambda invocation (AWS: about 1 and 2 min). */
  retryDelaysMs?: number[];
  /** Queue rules: deliveries per message before it goes to the dead-letter list. */
  maxReceiveCount?: number;
  /** Queue rules: the visibility timeout before a failed message is received again. */
  visibilityTimeoutMs?: number;
  /** Queue rules: most messages per consumer call (default: the deployed event source's). */
  batchSize?: number;
  /** Queue rules: wait after a message arrives before polling (short locally, 1 s deployed). */
  batchWindowMs?: number;
  /** How many received events the log keeps (the oldest are dropped). */
  logLimit?: number;
  /** A consumer taking longer fails like a timed-out Lambda. */
  consumerTimeoutMs?: number;
}

export type EventEnvelope = EventBridgeEvent<string, unknown>;

export interface LoggedEvent {
  event: EventEnvelope;
  eventBusName: string;
  /** Rules the event matched. */
  rules: string[];
  /** Matched rules whose consumer module does not exist yet: the event was only logged. */
  noConsumer: string[];
}

export interface DeadLetter {
  rule: string;
  delivery: EventRule['delivery'];
  event: EventEnvelope;
  attempts: number;
  error: string;
  failedAt: string;
}

export interface LocalEventBus {
  url: string;
  port: number;
  busName: string;
  events: () => LoggedEvent[];
  deadLetters: () => DeadLetter[];
  /** Resolves true once no delivery is pending or scheduled, false after `timeoutMs`. */
  waitForIdle: (timeoutMs?: number) => Promise<boolean>;
  pending: () => number;
  close: () => Promise<void>;
}

interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Resources?: string[];
  Time?: number | string;
}

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

interface QueuedMessage {
  messageId: string;
  body: string;
  event: EventEnvelope;
  receiveCount: number;
  sentTimestamp: number;
  firstReceiveTimestamp?: number;
  visibleAt: number;
}

interface RuleQueue {
  rule: EventRule;
  messages: QueuedMessage[];
  timer?: NodeJS.Timeout;
  busy: boolean;
}

const accountId = '000000000000';
const maxEntries = 10;
const maxRequestBytes = 256 * 1024;

export async function startEventBus(options: EventBusOptions = {}): Promise<LocalEventBus> {
  const busName = options.busName ?? localSettings.eventBusName;
  const rules = options.rules ?? eventRules;
  const region = options.region ?? localSettings.region;
  const retryDelaysMs = options.retryDelaysMs ?? [200, 400];
  const maxReceiveCount = options.maxReceiveCount ?? 3;
  const visibilityTimeoutMs = options.visibilityTimeoutMs ?? 200;
  const batchSize = options.batchSize ?? queueBatching.batchSize;
  const batchWindowMs = options.batchWindowMs ?? 20;
  const logLimit = options.logLimit ?? 1000;
  const consumerTimeoutMs = options.consumerTimeoutMs ?? 30_000;

  const log: LoggedEvent[] = [];
  const deadLetters: DeadLetter[] = [];
  const queues = new Map<string, RuleQueue>();
  const timers = new Set<NodeJS.Timeout>();
  let pending = 0;
  let idleWaiters: Array<() => void> = [];
  let closed = false;

  function settle(count = 1): void {
    pending -= count;
    if (pending > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const wake of waiters) wake();
  }

  function later(ms: number, task: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) task();
    }, ms);
    timers.add(timer);
    return timer;
  }

  function deadLetter(rule: EventRule, event: EventEnvelope, attempts: number, error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(
      `local bus: ${rule.name} gave up on ${event['detail-type']} ${event.id} after ` +
        `${attempts} attempts: ${message}`,
    );
    deadLetters.push({
      rule: rule.name,
      delivery: rule.delivery,
      event,
      attempts,
      error: message,
      failedAt: new Date().toISOString(),
    });
  }

  async function callConsumer(rule: EventRule, payload: unknown): Promise<unknown> {
    const handler = await loadHandler(rule.consumer.entry, rule.consumer.handler);
    const requestId = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${consumerTimeoutMs} ms`)),
        consumerTimeoutMs,
      );
    });
    try {
      const context = lambdaContext(`${rule.name}Consumer`, requestId, consumerTimeoutMs);
      return await Promise.race([handler(payload, context), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  // Asynchronous invocation: the same envelope (same id) on every attempt.
  async function invokeAsync(rule: EventRule, event: EventEnvelope, attempt: number) {
    try {
      await callConsumer(rule, event);
      settle();
    } catch (error) {
      const delay = retryDelaysMs[attempt - 1];
      if (delay === undefined || closed) {
        deadLetter(rule, event, attempt, error);
        settle();
        return;
      }
      later(delay, () => void invokeAsync(rule, event, attempt + 1));
    }
  }

  function enqueue(rule: EventRule, event: EventEnvelope): void {
    let queue = queues.get(rule.name);
    if (!queue) {
      queue = { rule, messages: [], busy: false };
      queues.set(rule.name, queue);
    }
    const now = Date.now();
    queue.messages.push({
      messageId: randomUUID(),
      body: JSON.stringify(event),
      event,
      receiveCount: 0,
      sentTimestamp: now,
      visibleAt: now,
    });
    schedulePoll(queue, batchWindowMs);
  }

  function schedulePoll(queue: RuleQueue, delayMs: number): void {
    if (queue.timer || queue.busy || queue.messages.length === 0) return;
    queue.timer = later(delayMs, () => {
      queue.timer = undefined;
      void pollQueue(queue);
    });
  }

  async function pollQueue(queue: RuleQueue): Promise<void> {
    const now = Date.now();
    const batch = queue.messages.filter((m) => m.visibleAt <= now).slice(0, batchSize);
    if (batch.length === 0) {
      const next = Math.min(...queue.messages.map((m) => m.visibleAt));
      return schedulePoll(queue, Math.max(0, next - now));
    }
    queue.busy = true;
    for (const message of batch) {
      message.receiveCount += 1;
      message.firstReceiveTimestamp ??= now;
    }

    let failedIds: Set<string>;
    let failure: unknown;
    try {
      const response = (await callConsumer(queue.rule, sqsEvent(queue.rule, batch))) as
        | SQSBatchResponse
        | undefined;
      failedIds = new Set(response?.batchItemFailures?.map((f) => f.itemIdentifier) ?? []);
      failure = 'reported in batchItemFailures';
    } catch (error) {
      // A thrown error fails the whole batch, as with an SQS event source mapping.
      failedIds = new Set(batch.map((m) => m.messageId));
      failure = error;
    }

    for (const message of batch) {
      if (failedIds.has(message.messageId) && message.receiveCount < maxReceiveCount) {
        message.visibleAt = Date.now() + visibilityTimeoutMs;
        continue;
      }
      if (failedIds.has(message.messageId)) {
        deadLetter(queue.rule, message.event, message.receiveCount, failure);
      }
      queue.messages.splice(queue.messages.indexOf(message), 1);
      settle();
    }
    queue.busy = false;
    schedulePoll(queue, 0);
  }

  function sqsEvent(rule: EventRule, batch: QueuedMessage[]): SQSEvent {
    const queueArn = `arn:aws:sqs:${region}:${accountId}:${rule.name}Queue`;
    return {
      Records: batch.map(
        (message): SQSRecord => ({
          messageId: message.messageId,
          receiptHandle: `${message.messageId}#${message.receiveCount}`,
          body: message.body,
          attributes: {
            ApproximateReceiveCount: String(message.receiveCount),
            SentTimestamp: String(message.sentTimestamp),
            SenderId: 'AIDAEVENTBRIDGE',
            ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp),
          },
          messageAttributes: {},
          md5OfBody: createHash('md5').update(message.body).digest('hex'),
          eventSource: 'aws:sqs',
          eventSourceARN: queueArn,
          awsRegion: region,
        }),
      ),
    };
  }

  function route(event: EventEnvelope, eventBusName: string): void {
    const matched =
      eventBusName === busName
        ? rules.filter(
            (rule) =>
              rule.source === event.source &&
              (rule.detailTypes as string[]).includes(event['detail-type']),
          )
        : [];
    const noConsumer = matched.filter((rule) => !handlerExists(rule.consumer.entry));
    log.push({
      event,
      eventBusName,
      rules: matched.map((rule) => rule.name),
      noConsumer: noConsumer.map((rule) => rule.name),
    });
    if (log.length > logLimit) log.splice(0, log.length - logLimit);

    for (const rule of matched) {
      if (noConsumer.includes(rule)) continue;
      pending += 1;
      if (rule.delivery === 'queue') enqueue(rule, event);
      else setImmediate(() => void invokeAsync(rule, event, 1));
    }
  }

  function putEvents(entries: PutEventsEntry[]): EntryResult[] {
    return entries.map((entry) => {
      const problem = validateEntry(entry);
      if (problem) return problem;
      const eventBusName = busNameOf(entry.EventBusName);
      if (eventBusName !== busName && eventBusName !== 'default') {
        return {
          ErrorCode: 'ResourceNotFoundException',
          ErrorMessage: `Event bus ${eventBusName} does not exist.`,
        };
      }
      const event: EventEnvelope = {
        version: '0',
        id: randomUUID(),
        'detail-type': entry.DetailType as string,
        source: entry.Source as string,
        account: accountId,
        time: eventTime(entry.Time),
        region,
        resources: entry.Resources ?? [],
        detail: JSON.parse(entry.Detail as string),
      };
      route(event, eventBusName);
      return { EventId: event.id };
    });
  }

  async function waitForIdle(timeoutMs = 10_000): Promise<boolean> {
    if (pending === 0) return true;
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        idleWaiters = idleWaiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      idleWaiters.push(wake);
    });
  }

  const server = createServer((request, response) => {
    handleRequest(request, response).catch((error) => {
      console.error('local bus: request failed', error);
      if (!response.headersSent) awsError(response, 500, 'InternalException', 'Internal error');
    });
  });

  async function handleRequest(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const body = await readBody(request);

    if (request.method === 'GET' && url.pathname === '/_local/events') {
      const detailType = url.searchParams.get('detail-type');
      const source = url.searchParams.get('source');
      const events = log.filter(
        (l) =>
          (!detailType || l.event['detail-type'] === detailType) &&
          (!source || l.event.source === source),
      );
      return json(response, 200, { events });
    }
    if (request.method === 'GET' && url.pathname === '/_local/dead-letters') {
      return json(response, 200, { deadLetters });
    }
    if (request.method === 'GET' && url.pathname === '/_local/idle') {
      const idle = await waitForIdle(Number(url.searchParams.get('timeoutMs') ?? 10_000));
      return json(response, idle ? 200 : 503, { idle, pending });
    }

    const target = request.headers['x-amz-target'];
    if (request.method !== 'POST' || url.pathname !== '/' || typeof target !== 'string') {
      return json(response, 404, { message: 'Not Found' });
    }
    if (target !== 'AWSEvents.PutEvents') {
      return awsError(response, 400, 'UnknownOperationException', `${target} is not supported`);
    }
    if (body.length > maxRequestBytes) {
      return awsError(
        response,
        400,
        'ValidationException',
        'Total size of the entries in the request is over the limit.',
      );
    }

    let entries: unknown;
    try {
      entries = (JSON.parse(body.toString('utf8')) as { Entries?: unknown }).Entries;
    } catch {
      return awsError(response, 400, 'SerializationException', 'Malformed request body');
    }
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > maxEntries) {
      return awsError(
        response,
        400,
        'ValidationException',
        "1 validation error detected: Value at 'entries' failed to satisfy constraint: " +
          `Member must have length between 1 and ${maxEntries}`,
      );
    }
    const results = putEvents(entries as PutEventsEntry[]);
    const FailedEntryCount = results.filter((r) => 'ErrorCode' in r).length;
    return awsJson(response, 200, { FailedEntryCount, Entries: results });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4010, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://localhost:${port}`,
    port,
    busName,
    events: () => [...log],
    deadLetters: () => [...deadLetters],
    waitForIdle,
    pending: () => pending,
    close: () =>
      new Promise((resolve) => {
        closed = true;
        for (const timer of timers) clearTimeout(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The per-entry checks EventBridge makes, with its error codes. */
function validateEntry(entry: PutEventsEntry): EntryResult | undefined {
  for (const field of ['Source', 'DetailType', 'Detail'] as const) {
    if (typeof entry[field] !== 'string' || entry[field] === '') {
      return {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
      };
    }
  }
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail as string);
  } catch {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  return undefined;
}

/** Accepts a bus name or ARN; no name means the account's default bus. */
function busNameOf(nameOrArn: string | undefined): string {
  if (!nameOrArn) return 'default';
  return nameOrArn.startsWith('arn:') ? (nameOrArn.split('/').pop() ?? nameOrArn) : nameOrArn;
}

/** EventBridge times are ISO 8601 to the second: `2024-05-01T12:00:00Z`. */
function eventTime(time: number | string | undefined): string {
  const date =
    time === undefined ? new Date() : new Date(typeof time === 'number' ? time * 1000 : time);
  const valid = Number.isNaN(date.getTime()) ? new Date() : date;
  return `${valid.toISOString().slice(0, 19)}Z`;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function awsJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'x-amzn-requestid': randomUUID(),
  });
  response.end(JSON.stringify(body));
}

function awsError(response: ServerResponse, status: number, type: string, message: string) {
  awsJson(response, status, { __type: type, message });
}
