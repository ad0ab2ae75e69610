import { performance } from 'node:perf_hooks';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { balanceSk, orgPk } from '#data/keys';
import { tableName } from '#data/table';
import { listAllMemberSpend } from '#data/usage';
import { loadHandler } from '#local/lambda';
import { documentClient } from '#platform/aws-clients';
import { lambdaContext } from '#test/support/api-event';
import { type CallCounter, writesBalance } from './counter.ts';
import {
  createOrganizationAs,
  freshId,
  grantCredits,
  seedMembers,
  usageDetail,
  usageSqsEvent,
} from './fixtures.ts';
import { markdownTable, round, section } from './support.ts';
import { bareUsageTransaction } from './warm.ts';

/**
 * Section 4: usage ingestion. `events` UsageRecorded for one organization from 100 members, 5%
 * of them redeliveries of earlier ones, through the usage consumer in SQS batches; then the
 * balance, the members' spend and the ledger are checked to the micro-dollar. The baseline
 * charges one event per transaction (marker + BALANCE + member) on a sample of the same mix.
 */
export interface IngestionRun {
  batchSize: number;
  events: number;
  uniqueEvents: number;
  batches: number;
  failedRecords: number;
  transactions: number;
  cancelledTransactions: number;
  balanceWrites: number;
  balanceWritesPerEvent: number;
  eventsPerSecond: number;
  totalsExact: boolean;
  totals: { expectedMicros: number; balanceSpentMicros: number; membersSpentMicros: number };
}

export interface IngestionResult {
  runs: IngestionRun[];
  baseline: { events: number; eventsPerSecond: number };
  /** Consumer throughput over the baseline's, at the configured batch size. */
  throughputRatio: number;
  targetPerEvent: number;
}

/** A seeded generator, so every run charges the same amounts. */
function generator(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

type Usage = ReturnType<typeof usageDetail>;

function usageStream(orgId: string, members: string[], count: number) {
  const random = generator(42);
  const duplicates = Math.round(count * 0.05);
  const unique: Usage[] = [];
  for (let i = 0; i < count - duplicates; i++) {
    const userId = members[Math.floor(random() * members.length)] as string;
    unique.push(usageDetail(orgId, userId, 1 + Math.floor(random() * 100_000)));
  }
  const stream = [...unique];
  for (let i = 0; i < duplicates; i++) {
    const original = unique[Math.floor(random() * unique.length)] as Usage;
    stream.splice(Math.floor(random() * (stream.length + 1)), 0, { ...original });
  }
  const expectedMicros = unique.reduce((sum, usage) => sum + usage.costMicros, 0);
  return { stream, unique: unique.length, expectedMicros };
}

async function balanceItem(orgId: string) {
  const { Item } = await documentClient.send(
    new GetCommand({
      TableName: tableName,
      Key: { pk: orgPk(orgId), sk: balanceSk },
      ConsistentRead: true,
    }),
  );
  return { spent: Number(Item?.spentMicros ?? 0), balance: Number(Item?.balanceMicros ?? 0) };
}

async function membersSpent(orgId: string): Promise<number> {
  const members = await listAllMemberSpend(orgId);
  return members.reduce((total, member) => total + member.lifetimeSpentMicros, 0);
}

async function ingestionOrg(label: string) {
  const orgId = await createOrganizationAs(
    { userId: freshId('u_ingest_owner'), email: 'ingest@bench.example' },
    label,
  );
  const members = Array.from({ length: 100 }, (_, i) => `u_ingest_${String(i).padStart(3, '0')}`);
  await seedMembers(orgId, members);
  await grantCredits(orgId, 10_000_000_000);
  return { orgId, members };
}

async function ingest(
  counter: CallCounter,
  batchSize: number,
  count: number,
): Promise<IngestionRun> {
  const handler = await loadHandler('functions/consumers/usage.ts', 'handler');
  const { orgId, members } = await ingestionOrg(`Bench ingestion ${batchSize}`);
  const { stream, unique, expectedMicros } = usageStream(orgId, members, count);
  const before = await balanceItem(orgId);
  const batches = [];
  for (let i = 0; i < stream.length; i += batchSize) {
    batches.push(usageSqsEvent(stream.slice(i, i + batchSize)));
  }

  counter.reset();
  let failedRecords = 0;
  const start = performance.now();
  for (const batch of batches) {
    const result = (await handler(batch, lambdaContext)) as {
      batchItemFailures: Array<{ itemIdentifier: string }>;
    };
    failedRecords += result.batchItemFailures.length;
  }
  const seconds = (performance.now() - start) / 1000;
  const transactions = counter.calls.filter((call) => call.operation === 'TransactWriteItems');
  const balanceWrites = transactions.filter((call) => call.ok && writesBalance(call)).length;

  const after = await balanceItem(orgId);
  const membersSpentMicros = await membersSpent(orgId);
  const balanceSpentMicros = after.spent - before.spent;
  const totalsExact =
    balanceSpentMicros === expectedMicros &&
    before.balance - after.balance === expectedMicros &&
    membersSpentMicros === expectedMicros &&
    failedRecords === 0;
  return {
    batchSize,
    events: stream.length,
    uniqueEvents: unique,
    batches: batches.length,
    failedRecords,
    transactions: transactions.length,
    cancelledTransactions: transactions.filter((call) => !call.ok).length,
    balanceWrites,
    balanceWritesPerEvent: balanceWrites / stream.length,
    eventsPerSecond: round(stream.length / seconds, 0),
    totalsExact,
    totals: { expectedMicros, balanceSpentMicros, membersSpentMicros },
  };
}

/** One transaction per event: marker, BALANCE, ledger entry, member spend. */
async function baselineIngest(count: number): Promise<{ events: number; eventsPerSecond: number }> {
  const { orgId, members } = await ingestionOrg('Bench ingestion baseline');
  const { stream } = usageStream(orgId, members, count);
  const start = performance.now();
  for (const usage of stream) {
    try {
      await bareUsageTransaction(orgId, [usage]);
    } catch (error) {
      // A redelivery: its marker exists, so the transaction is cancelled and nothing changes.
      if (!(error instanceof TransactionCanceledException)) throw error;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  return { events: stream.length, eventsPerSecond: round(stream.length / seconds, 0) };
}

export async function measureUsageIngestion(options: {
  counter: CallCounter;
  events: number;
  batchSizes: number[];
  baselineEvents: number;
}): Promise<IngestionResult> {
  section('4. Usage ingestion (usage consumer, SQS batches, 5% redeliveries)');
  const runs: IngestionRun[] = [];
  for (const batchSize of options.batchSizes) {
    runs.push(await ingest(options.counter, batchSize, options.events));
  }
  const baseline = await baselineIngest(options.baselineEvents);
  const configured = runs[0] as IngestionRun;
  const targetPerEvent = 1 / 20;
  console.log(
    markdownTable(
      [
        'batch size',
        'events (unique)',
        'transactions (cancelled)',
        'balance writes / event',
        'target 1/20',
        'totals exact',
        'events/s vs 1-tx-per-event baseline',
      ],
      runs.map((run) => [
        run.batchSize,
        `${run.events} (${run.uniqueEvents})`,
        `${run.transactions} (${run.cancelledTransactions})`,
        `1/${round(1 / run.balanceWritesPerEvent, 1)}`,
        run.balanceWritesPerEvent <= targetPerEvent ? 'met' : 'missed',
        run.totalsExact ? 'yes' : `NO ${JSON.stringify(run.totals)}`,
        `${round(run.eventsPerSecond / baseline.eventsPerSecond)}x`,
      ]),
    ),
  );
  console.log(
    `\nbaseline: ${baseline.events} events, one transaction each. A batch is charged in at ` +
      'least one transaction, so balance writes per event cannot go below 1/batch size: ' +
      `1/20 needs batches of 20 or more (the UsageCharging queue delivers up to ` +
      `${configured.batchSize}, gathered for at most 1 s).`,
  );
  return {
    runs,
    baseline,
    throughputRatio: round(configured.eventsPerSecond / baseline.eventsPerSecond),
    targetPerEvent,
  };
}
