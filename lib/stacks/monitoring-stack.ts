import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
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
const period = Duration.minutes(5);

/** Alarms on dead-letter queue depth and the API's 5xx rate, and one dashboard. */
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
      ],
    });
  }
}
