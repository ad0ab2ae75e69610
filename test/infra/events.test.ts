import { beforeAll, describe, expect, it } from 'vitest';
import { eventRules } from '#catalogue/events';
import {
  actionsOf,
  type FunctionResource,
  functionsById,
  resourcesOfType,
  roleStatements,
  type SynthesizedService,
  synthesizeService,
} from '#test/infra/synth';

let service: SynthesizedService;
let functions: Map<string, FunctionResource>;

beforeAll(() => {
  service = synthesizeService();
  functions = functionsById(service.events);
});

/** The logical id CDK gave the construct `${prefix}` (its id plus an 8-character hash). */
function logicalId(type: string, prefix: string): string {
  const ids = Object.keys(resourcesOfType(service.events, type)).filter((id) =>
    new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id),
  );
  expect(ids).toHaveLength(1);
  return ids[0] ?? '';
}

function consumerOf(ruleName: string): FunctionResource {
  const fn = functions.get(ruleName);
  if (!fn) throw new Error(`no consumer for ${ruleName}`);
  return fn;
}

const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('event bus rules', () => {
  it('has one rule per catalogue entry on the custom bus', () => {
    service.events.resourceCountIs('AWS::Events::EventBus', 1);
    const rules = Object.values(resourcesOfType(service.events, 'AWS::Events::Rule'));
    expect(rules).toHaveLength(eventRules.length);
    const busId = Object.keys(resourcesOfType(service.events, 'AWS::Events::EventBus'))[0];
    for (const rule of rules) expect(rule.Properties.EventBusName).toEqual({ Ref: busId });
  });

  it.each(eventRules)('$name matches its source and detail types', (rule) => {
    const ruleId = logicalId('AWS::Events::Rule', `${rule.name}Rule`);
    const properties = resourcesOfType(service.events, 'AWS::Events::Rule')[ruleId]?.Properties;
    expect(properties?.EventPattern).toEqual({
      source: [rule.source],
      'detail-type': rule.detailTypes,
    });
  });

  it.each(eventRules)('$name target retries and dead-letters to its own DLQ', (rule) => {
    const ruleId = logicalId('AWS::Events::Rule', `${rule.name}Rule`);
    const dlqId = logicalId('AWS::SQS::Queue', `${rule.name}Dlq`);
    const targets = resourcesOfType(service.events, 'AWS::Events::Rule')[ruleId]?.Properties
      .Targets as Record<string, unknown>[];

    const expectedTarget =
      rule.delivery === 'lambda'
        ? arnOf(consumerOf(rule.name).logicalId)
        : arnOf(logicalId('AWS::SQS::Queue', `${rule.name}Queue`));
    expect(targets).toEqual([
      expect.objectContaining({
        Arn: expectedTarget,
        DeadLetterConfig: { Arn: arnOf(dlqId) },
        RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 },
      }),
    ]);
  });

  it.each(eventRules.filter((rule) => rule.delivery === 'lambda'))(
    '$name consumer sends events that fail every async retry to the DLQ',
    (rule) => {
      const consumer = consumerOf(rule.name);
      const dlqId = logicalId('AWS::SQS::Queue', `${rule.name}Dlq`);
      expect(consumer.properties.DeadLetterConfig).toEqual({ TargetArn: arnOf(dlqId) });
      service.events.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: consumer.logicalId },
        MaximumRetryAttempts: 2,
      });
    },
  );

  it.each(eventRules.filter((rule) => rule.delivery === 'queue'))(
    '$name queue redrives to its DLQ and reports partial batch failures',
    (rule) => {
      const queueId = logicalId('AWS::SQS::Queue', `${rule.name}Queue`);
      const dlqId = logicalId('AWS::SQS::Queue', `${rule.name}Dlq`);
      const queue = resourcesOfType(service.events, 'AWS::SQS::Queue')[queueId]?.Properties;
      expect(queue?.RedrivePolicy).toEqual({
        deadLetterTargetArn: arnOf(dlqId),
        maxReceiveCount: 5,
      });
      // Six times the 30 s consumer timeout plus the 1 s batching window.
      expect(queue?.VisibilityTimeout).toBe(181);

      service.events.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: arnOf(queueId),
        FunctionName: { Ref: consumerOf(rule.name).logicalId },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    },
  );

  it.each(eventRules.filter((rule) => rule.delivery === 'queue'))(
    '$name consumer receives batches of up to 100 gathered for at most 1 s',
    (rule) => {
      const queueId = logicalId('AWS::SQS::Queue', `${rule.name}Queue`);
      service.events.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: arnOf(queueId),
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 1,
      });
    },
  );

  it('lets EventBridge write to every dead-letter queue only from its rule', () => {
    for (const rule of eventRules) {
      const dlqId = logicalId('AWS::SQS::Queue', `${rule.name}Dlq`);
      const ruleId = logicalId('AWS::Events::Rule', `${rule.name}Rule`);
      const policies = Object.values(resourcesOfType(service.events, 'AWS::SQS::QueuePolicy'));
      const statements = policies
        .filter((policy) => JSON.stringify(policy.Properties.Queues).includes(dlqId))
        .flatMap(
          (policy) => (policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement,
        );
      expect(statements).toContainEqual(
        expect.objectContaining({
          Action: 'sqs:SendMessage',
          Principal: { Service: 'events.amazonaws.com' },
          Condition: { ArnEquals: { 'aws:SourceArn': arnOf(ruleId) } },
        }),
      );
    }
  });
});

describe('consumers', () => {
  it.each(eventRules)('$name consumer runs $consumer.handler on Node.js 22 arm64', (rule) => {
    const consumer = consumerOf(rule.name);
    expect(consumer.properties.Handler).toBe(`index.${rule.consumer.handler}`);
    expect(consumer.properties.Runtime).toBe('nodejs22.x');
    expect(consumer.properties.Architectures).toEqual(['arm64']);
  });

  it.each(eventRules)('$name consumer is granted only what its access declares', (rule) => {
    const actions = actionsOf(roleStatements(service.events, consumerOf(rule.name)));
    expect(actions.some((action) => action.includes('*'))).toBe(false);
    expect(actions.includes('dynamodb:PutItem')).toBe(rule.access.table === 'readwrite');
    expect(actions.includes('events:PutEvents')).toBe(rule.access.publishes === true);
    expect(actions.some((action) => action.startsWith('secretsmanager:'))).toBe(false);
    const sqsActions = actions.filter((action) => action.startsWith('sqs:'));
    if (rule.delivery === 'lambda') expect(sqsActions).toEqual(['sqs:SendMessage']);
    else expect(sqsActions).not.toContain('sqs:SendMessage');
  });
});
