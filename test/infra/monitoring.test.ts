import { beforeAll, describe, expect, it } from 'vitest';
import { eventRules } from '#catalogue/events';
import { resourcesOfType, type SynthesizedService, synthesizeService } from '#test/infra/synth';

let service: SynthesizedService;

beforeAll(() => {
  service = synthesizeService({ alarmEmail: 'oncall@example.com' });
});

describe('monitoring', () => {
  it('alarms as soon as any dead-letter queue holds a message', () => {
    const alarms = Object.values(resourcesOfType(service.monitoring, 'AWS::CloudWatch::Alarm'));
    const dlqAlarms = alarms.filter(
      (alarm) => alarm.Properties.MetricName === 'ApproximateNumberOfMessagesVisible',
    );
    expect(dlqAlarms).toHaveLength(eventRules.length);
    for (const alarm of dlqAlarms) {
      expect(alarm.Properties).toMatchObject({
        Namespace: 'AWS/SQS',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: expect.stringMatching(/^AlarmTopic/) }],
      });
    }
  });

  it('alarms on the API 5xx rate above 5 percent', () => {
    const alarms = Object.values(resourcesOfType(service.monitoring, 'AWS::CloudWatch::Alarm'));
    const rateAlarm = alarms.find((alarm) => alarm.Properties.Metrics !== undefined);
    expect(rateAlarm?.Properties).toMatchObject({
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
    });
    const metrics = (rateAlarm?.Properties.Metrics ?? []) as {
      MetricStat?: { Metric: { MetricName: string } };
    }[];
    const metricNames = metrics
      .flatMap((metric) => (metric.MetricStat ? [metric.MetricStat.Metric.MetricName] : []))
      .sort();
    expect(metricNames).toEqual(['5xx', 'Count']);
  });

  it('emails the configured address and draws one dashboard', () => {
    service.monitoring.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
    service.monitoring.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});
