import { beforeAll, describe, expect, it } from 'vitest';
import { eventRules } from '#catalogue/events';
import { metricsCatalogue } from '#catalogue/metrics';
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
    const rateAlarm = alarms.find((alarm) =>
      JSON.stringify(alarm.Properties.Metrics ?? []).includes('"5xx"'),
    );
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

  it('alarms on webhook signature failures of any sender, from the webhookRejected metric', () => {
    const alarm = Object.values(resourcesOfType(service.monitoring, 'AWS::CloudWatch::Alarm')).find(
      (candidate) => JSON.stringify(candidate.Properties.Metrics ?? []).includes('FILL('),
    );
    expect(alarm?.Properties).toMatchObject({
      Threshold: 5,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: expect.stringMatching(/^AlarmTopic/) }],
    });
    const metrics = alarm?.Properties.Metrics as {
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: Record<string, unknown>; Stat: string };
    }[];
    expect(metrics.find((metric) => metric.Expression)?.Expression).toBe(
      'FILL(stripe, 0) + FILL(github, 0) + FILL(gitlab, 0)',
    );
    const inputs = metrics.filter((metric) => metric.MetricStat);
    expect(inputs.map((metric) => metric.Id).sort()).toEqual(['github', 'gitlab', 'stripe']);
    for (const input of inputs) {
      expect(input.MetricStat?.Stat).toBe('Sum');
      expect(input.MetricStat?.Metric).toEqual({
        Namespace: metricsCatalogue.namespace,
        MetricName: 'webhookRejected',
        Dimensions: expect.arrayContaining([
          { Name: 'service', Value: 'organizations' },
          { Name: 'sender', Value: input.Id },
          { Name: 'reason', Value: 'signature' },
        ]),
      });
    }
  });

  it('emails the configured address and draws one dashboard', () => {
    service.monitoring.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
    service.monitoring.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});
