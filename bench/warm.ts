import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  BatchGetCommand,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  balanceUpdate,
  ledgerEntryItem,
  markerPut,
  monthlySpendAttribute,
  newEntryId,
} from '#data/credits';
import { balanceSk, memberLlmSk, memberSk, memberSkPrefix, orgLlmSk, orgPk } from '#data/keys';
import { tableName } from '#data/table';
import { usageKey } from '#domain/credits';
import { loadHandler } from '#local/lambda';
import { documentClient } from '#platform/aws-clients';
import { eventBridgeClient } from '#platform/event-bridge';
import { lambdaContext } from '#test/support/api-event';
import { type BenchFixtures, benchUsers, freshId, usageDetail } from './fixtures.ts';
import type { Scenario } from './scenarios.ts';

type Usage = ReturnType<typeof usageDetail>;

import { interleaved, markdownTable, round, section } from './support.ts';

/**
 * Section 2: warm overhead. The same request through the handler (in process, API Gateway v2
 * event, module already loaded) and as the bare SDK calls the handler makes, on the same
 * DynamoDB Local and the same clients, alternately; medians compared. The difference is what
 * the handler adds: parsing, validation, authorisation, mapping, logging, middleware.
 */
export interface WarmRow {
  id: string;
  label: string;
  handlerMs: number;
  bareMs: number;
  ratio: number;
  bareCalls: string;
}

interface WarmCase {
  id: string;
  label: string;
  bareCalls: string;
  /** A fresh event per call (webhooks and usage need new ids). */
  event: () => Promise<unknown>;
  bare: () => Promise<unknown>;
}

function batchGet(orgId: string, sks: string[]) {
  return documentClient.send(
    new BatchGetCommand({
      RequestItems: { [tableName]: { Keys: sks.map((sk) => ({ pk: orgPk(orgId), sk })) } },
    }),
  );
}

function warmCases(fx: BenchFixtures, byId: Map<string, Scenario>): WarmCase[] {
  const member = benchUsers.member.userId;
  const prepare = (id: string) => () => (byId.get(id) as Scenario).prepare(fx);
  const month = new Date().toISOString().slice(0, 7);
  return [
    {
      id: 'getCreditBalance',
      label: 'credits balance',
      bareCalls: 'BatchGet member + BALANCE',
      event: prepare('getCreditBalance'),
      bare: () => batchGet(fx.orgId, [memberSk(member), balanceSk]),
    },
    {
      id: 'listMembers',
      label: 'members list (page of 50)',
      bareCalls: 'GetItem member || Query 50',
      event: prepare('listMembers'),
      bare: () =>
        Promise.all([
          documentClient.send(
            new GetCommand({
              TableName: tableName,
              Key: { pk: orgPk(fx.orgId), sk: memberSk(member) },
            }),
          ),
          documentClient.send(
            new QueryCommand({
              TableName: tableName,
              KeyConditionExpression: 'pk = :pk AND begins_with(sk, :member)',
              ExpressionAttributeValues: { ':pk': orgPk(fx.orgId), ':member': memberSkPrefix },
              Limit: 50,
            }),
          ),
        ]),
    },
    {
      id: 'getEffectiveLlmSettings',
      label: 'effective LLM settings',
      bareCalls: 'BatchGet member + LLM#ORG + LLM#MEMBER',
      event: prepare('getEffectiveLlmSettings'),
      bare: () => batchGet(fx.orgId, [memberSk(member), orgLlmSk, memberLlmSk(member)]),
    },
    {
      id: 'getMembersFinancial',
      label: `members/financial page of 100 (${fx.bigOrgSize.toLocaleString('en')} members)`,
      bareCalls: 'BatchGet member + BALANCE, then Query 100',
      event: prepare('getMembersFinancial'),
      bare: async () => {
        await batchGet(fx.bigOrgId, [memberSk(fx.bigOrgOwner), balanceSk]);
        await documentClient.send(financialQuery(fx.bigOrgId, month, undefined));
      },
    },
    {
      id: 'stripeWebhook',
      label: 'checkout webhook (Stripe)',
      bareCalls: 'PutEvents of the same entry',
      event: prepare('stripeWebhook'),
      bare: () =>
        eventBridgeClient.send(
          new PutEventsCommand({
            Entries: [
              {
                EventBusName: process.env.EVENT_BUS_NAME,
                Source: 'payments',
                DetailType: 'CreditPurchasePaid',
                Detail: JSON.stringify({
                  eventId: freshId('stripe:evt'),
                  orgId: fx.orgId,
                  checkoutSessionId: freshId('cs_test'),
                  amountMicros: 50_000_000,
                  currency: 'usd',
                  amountMinor: 5000,
                  stripeEventId: freshId('evt'),
                  occurredAt: new Date().toISOString(),
                }),
              },
            ],
          }),
        ),
    },
    {
      id: 'UsageCharging',
      label: 'usage batch (10 events, 10 members)',
      bareCalls: 'one TransactWrite of the same 22 items',
      event: prepare('UsageCharging'),
      bare: () =>
        bareUsageTransaction(
          fx.orgId,
          fx.usageMembers.slice(0, 10).map((userId) => usageDetail(fx.orgId, userId, 1234)),
        ),
    },
  ];
}

/** The members/financial page query, as the handler's data access builds it. */
export function financialQuery(
  orgId: string,
  month: string,
  startKey: Record<string, unknown> | undefined,
) {
  return new QueryCommand({
    TableName: tableName,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :member)',
    ProjectionExpression: 'pk, sk, userId, email, #role, lifetimeSpentMicros, spentByMonth.#month',
    ExpressionAttributeNames: { '#role': 'role', '#month': month },
    ExpressionAttributeValues: { ':pk': orgPk(orgId), ':member': memberSkPrefix },
    Limit: 100,
    ExclusiveStartKey: startKey,
  });
}

/**
 * Usage charged without the service: the same items the consumer writes (markers, BALANCE,
 * ledger entry, member spend), built with the data module's item builders, in one transaction.
 */
export function bareUsageTransaction(orgId: string, usages: Usage[]) {
  const now = new Date().toISOString();
  const month = now.slice(0, 7);
  const total = usages.reduce((sum, usage) => sum + usage.costMicros, 0);
  const byMember = new Map<string, number>();
  for (const usage of usages) {
    byMember.set(usage.userId, (byMember.get(usage.userId) ?? 0) + usage.costMicros);
  }
  const deltas = {
    balanceMicros: -total,
    spentMicros: total,
    [monthlySpendAttribute(month)]: total,
  };
  const entry = {
    entryId: newEntryId(),
    kind: 'usage' as const,
    amountMicros: -total,
    createdAt: now,
  };
  return documentClient.send(
    new TransactWriteCommand({
      TransactItems: [
        ...usages.map((usage) =>
          markerPut(orgId, usageKey(usage.usageId), now, { costMicros: usage.costMicros }),
        ),
        balanceUpdate(orgId, deltas, now),
        {
          Put: {
            TableName: tableName,
            Item: ledgerEntryItem(orgId, { ...entry, usageCount: usages.length }),
          },
        },
        ...[...byMember].map(([userId, cost]) => ({
          Update: {
            TableName: tableName,
            Key: { pk: orgPk(orgId), sk: memberSk(userId) },
            UpdateExpression: 'ADD lifetimeSpentMicros :cost, spentByMonth.#month :cost',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#month': month },
            ExpressionAttributeValues: { ':cost': cost },
          },
        })),
      ],
    }),
  );
}

export async function measureWarm(options: {
  fx: BenchFixtures;
  scenarios: Scenario[];
  iterations: number;
}): Promise<{ rows: WarmRow[]; unmeasured: Array<{ id: string; reason: string }> }> {
  section('2. Warm overhead (in-process handler vs the same bare SDK calls)');
  const byId = new Map(options.scenarios.map((s) => [s.id, s]));
  const rows: WarmRow[] = [];
  const unmeasured: Array<{ id: string; reason: string }> = [];
  for (const warmCase of warmCases(options.fx, byId)) {
    const scenario = byId.get(warmCase.id);
    if (!scenario) {
      unmeasured.push({ id: warmCase.id, reason: 'its handler does not exist yet' });
      console.log(`not measured: ${warmCase.label}: its handler does not exist yet`);
      continue;
    }
    try {
      rows.push(await measureCase(warmCase, scenario, options.iterations));
    } catch (error) {
      const reason = (error as Error).message.split('\n')[0] ?? 'failed';
      unmeasured.push({ id: warmCase.id, reason });
      console.log(`not measured: ${warmCase.label}: ${reason}`);
    }
  }
  console.log(
    markdownTable(
      ['route', 'bare SDK calls', 'ratio handler / bare', 'target 1.2'],
      rows.map((row) => [
        row.label,
        row.bareCalls,
        row.ratio.toFixed(2),
        row.ratio <= 1.2 ? 'met' : 'missed',
      ]),
    ),
  );
  return { rows, unmeasured };
}

async function measureCase(
  warmCase: WarmCase,
  scenario: Scenario,
  iterations: number,
): Promise<WarmRow> {
  const handler = await loadHandler(scenario.entry, scenario.exportName);
  // Events are built ahead of the timed calls so signing and id generation are not timed.
  const events: unknown[] = [];
  const warmup = 10;
  for (let i = 0; i < iterations + warmup; i++) events.push(await warmCase.event());
  let next = 0;
  const viaHandler = async () => {
    const result = (await handler(events[next++], lambdaContext)) as { statusCode?: number };
    if (result?.statusCode !== undefined && result.statusCode >= 400) {
      throw new Error(`${warmCase.id} answered ${result.statusCode} during the warm run`);
    }
  };
  await interleaved(warmup, viaHandler, warmCase.bare);
  const { a, b, ratio } = await interleaved(iterations, viaHandler, warmCase.bare);
  return {
    id: warmCase.id,
    label: warmCase.label,
    handlerMs: round(a, 2),
    bareMs: round(b, 2),
    ratio: round(ratio),
    bareCalls: warmCase.bareCalls,
  };
}
