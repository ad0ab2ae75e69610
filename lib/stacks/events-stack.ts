import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction, SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { type EventRule, eventRules } from '#catalogue/events';
import { type FunctionPackaging, ServiceFunction } from '#lib/constructs/service-function';
import { queueBatching } from '#lib/queue-batching';
import { consumerTimeout, type ServiceSettings } from '#lib/settings';

export interface EventsStackProps extends StackProps {
  settings: ServiceSettings;
  table: ITable;
  packaging?: FunctionPackaging;
  sourceRoot?: string;
}

/** A dead-letter queue and the rule whose failed events it keeps. */
export interface DeadLetterQueue {
  ruleName: string;
  queue: IQueue;
}

/** EventBridge's own retries when it cannot deliver to a target (throttling, permissions). */
const targetRetryAttempts = 8;
const targetMaxEventAge = Duration.hours(6);
/** Receives of one SQS message before it moves to the dead-letter queue. */
const maxReceiveCount = 5;

/**
 * The custom bus and, for every rule in the catalogue, its rule, consumer function and
 * dead-letter queue. `lambda` rules invoke the consumer asynchronously; `queue` rules go through
 * an SQS queue the consumer drains in batches with partial batch responses.
 */
export class EventsStack extends Stack {
  readonly bus: IEventBus;
  readonly consumers: Record<string, IFunction> = {};
  readonly deadLetterQueues: DeadLetterQueue[] = [];

  constructor(scope: Construct, id: string, props: EventsStackProps) {
    super(scope, id, props);
    this.bus = new EventBus(this, 'Bus', { description: 'Organizations service events' });
    for (const rule of eventRules) this.addRule(rule, props);
  }

  private addRule(rule: EventRule, props: EventsStackProps): void {
    const deadLetterQueue = new Queue(this, `${rule.name}Dlq`, {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.deadLetterQueues.push({ ruleName: rule.name, queue: deadLetterQueue });

    const consumer = new ServiceFunction(this, `${rule.name}Consumer`, {
      entry: rule.consumer.entry,
      handler: rule.consumer.handler,
      access: rule.access,
      description: `${rule.name}: ${rule.detailTypes.join(', ')}`,
      table: props.table,
      bus: this.bus,
      settings: props.settings,
      timeout: consumerTimeout,
      // Async invocations that fail after Lambda's retries; queue consumers use the redrive.
      asyncFailureQueue: rule.delivery === 'lambda' ? deadLetterQueue : undefined,
      packaging: props.packaging,
      sourceRoot: props.sourceRoot,
    });
    this.consumers[rule.name] = consumer.fn;

    const eventRule = new Rule(this, `${rule.name}Rule`, {
      eventBus: this.bus,
      description: `${rule.detailTypes.join(', ')} to ${rule.consumer.entry}`,
      eventPattern: { source: [rule.source], detailType: [...rule.detailTypes] },
    });
    const targetOptions = {
      deadLetterQueue,
      retryAttempts: targetRetryAttempts,
      maxEventAge: targetMaxEventAge,
    };

    if (rule.delivery === 'lambda') {
      eventRule.addTarget(new LambdaFunction(consumer.fn, targetOptions));
      return;
    }

    const queue = new Queue(this, `${rule.name}Queue`, {
      // AWS's guidance: at least six times the function timeout plus the batching window, so
      // retries do not overlap.
      visibilityTimeout: Duration.seconds(
        consumerTimeout.toSeconds() * 6 + queueBatching.maxBatchingWindowSeconds,
      ),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount },
    });
    eventRule.addTarget(new SqsQueue(queue, targetOptions));
    consumer.fn.addEventSource(
      new SqsEventSource(queue, {
        batchSize: queueBatching.batchSize,
        maxBatchingWindow: Duration.seconds(queueBatching.maxBatchingWindowSeconds),
        reportBatchItemFailures: true,
      }),
    );
  }
}
