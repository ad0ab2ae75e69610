import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { metricsCatalogue } from '#catalogue/metrics';
import type { ServiceSettings } from '#lib/settings';
import type { DeadLetterQueue } from '#lib/stacks/events-stack';

export interface MonitoringStackProps extends StackProps {
  settings: ServiceSettings;
  httpApi: IHttpApi;
  deadLetterQueues: DeadLetterQueue[];
  /** Rule name -> consumer function, graphed on the dashboard. */
  consumers: Record<string, IFunction>;
}

/** Server errors above this share of requests, in two of three 5-minute periods, alarm. */
const serverErrorPercentThreshold = 5;
/**
 * Webhook deliveries with a bad signature per 5 minutes, for two periods in a row: a stray probe
 * of the public URL stays below it; a wrong or rolled secret (every delivery refused, so no
 * payments or claims arrive) crosses it.
 */
const signatureFailureThreshold = 5;
const period = Duration.minutes(5);

/** A custom metric of the service (see functions/catalogue/metrics.ts). */
function serviceMetric(
  metricName: string,
  dimensions: Record<string, string>,
  label: string,
): Metric {
  return new Metric({
    namespace: metricsCatalogue.namespace,
    metricName,
    dimensionsMap: { service: metricsCatalogue.serviceName, ...dimensions },
    period,
    statistic: 'Sum',
    label,
  });
}

/**
 * Alarms on dead-letter queue depth, the API's 5xx rate and webhook signature failures, and one
 * dashboard with the business metrics.
 */
export class MonitoringStack extends Stack {
  readonly alarmTopic: Topic;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    this.alarmTopic = new Topic(this, 'AlarmTopic', { enforceSSL: true });
    if (props.settings.alarmEmail) {
      this.alarmTopic.addSubscription(new EmailSubscription(props.settings.alarmEmail));
    }
    const notify = new SnsAction(this.alarmTopic);

    const dlqDepthMetrics = props.deadLetterQueues.map(({ ruleName, queue }) => {
      const depth = queue.metricApproximateNumberOfMessagesVisible({
        period,
        statistic: 'Maximum',
      });
      // One event in a dead-letter queue is money or a claim not applied: alarm at once.
      new Alarm(this, `${ruleName}DlqNotEmpty`, {
        alarmDescription: `Events for ${ruleName} failed every retry and wait in its DLQ.`,
        metric: depth,
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(notify);
      return depth.with({ label: ruleName });
    });

    const serverErrorRate = new MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: {
        errors: props.httpApi.metricServerError({ period, statistic: 'Sum' }),
        requests: props.httpApi.metricCount({ period, statistic: 'Sum' }),
      },
      label: '5xx %',
      period,
    });
    new Alarm(this, 'ApiServerErrorRate', {
      alarmDescription: `More than ${serverErrorPercentThreshold}% of API requests answer 5xx.`,
      metric: serverErrorRate,
      threshold: serverErrorPercentThreshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(notify);

    const signatureFailures = new MathExpression({
      expression: metricsCatalogue.webhookSenders.map((sender) => `FILL(${sender}, 0)`).join(' + '),
      usingMetrics: Object.fromEntries(
        metricsCatalogue.webhookSenders.map((sender) => [
          sender,
          serviceMetric(
            metricsCatalogue.names.webhookRejected,
            { sender, reason: 'signature' },
            sender,
          ),
        ]),
      ),
      label: 'webhook signature failures',
      period,
    });
    new Alarm(this, 'WebhookSignatureFailures', {
      alarmDescription:
        'Webhooks are refused for a bad signature or token: check the webhook secrets in ' +
        'Secrets Manager against Stripe, GitHub and GitLab (or someone is probing the URLs).',
      metric: signatureFailures,
      threshold: signatureFailureThreshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(notify);

    const consumers = Object.entries(props.consumers);
    new Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new GraphWidget({
            title: 'API requests and errors',
            left: [
              props.httpApi.metricCount({ period, statistic: 'Sum', label: 'requests' }),
              props.httpApi.metricClientError({ period, statistic: 'Sum', label: '4xx' }),
              props.httpApi.metricServerError({ period, statistic: 'Sum', label: '5xx' }),
            ],
            right: [serverErrorRate],
          }),
          new GraphWidget({
            title: 'API latency',
            left: [props.httpApi.metricLatency({ period, statistic: 'p99', label: 'p99' })],
          }),
        ],
        [
          new GraphWidget({ title: 'Dead-letter queue depth', left: dlqDepthMetrics }),
          new GraphWidget({
            title: 'Consumer errors',
            left: consumers.map(([name, fn]) =>
              fn.metricErrors({ period, statistic: 'Sum', label: name }),
            ),
          }),
        ],
        [
          new GraphWidget({
            title: 'Credits purchased and usage charged (micro-dollars)',
            left: [
              serviceMetric(metricsCatalogue.names.creditsPurchasedMicros, {}, 'purchased'),
              serviceMetric(metricsCatalogue.names.usageChargedMicros, {}, 'charged'),
            ],
          }),
          new GraphWidget({
            title: 'Webhook rejections and Git claims',
            left: [signatureFailures],
            right: ['github', 'gitlab'].map((provider) =>
              serviceMetric(
                metricsCatalogue.names.gitClaimsMade,
                { provider },
                `${provider} claims`,
              ),
            ),
          }),
        ],
      ],
    });
  }
}
