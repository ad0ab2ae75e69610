import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { queueBatching } from '#lib/queue-batching';
import type { FinancialResult } from './financial.ts';
import {
  entryExists,
  markdownTable,
  repoRoot,
  round,
  scaled,
  section,
  verdict,
} from './support.ts';
import type { IngestionResult } from './usage-ingestion.ts';

/**
 * `npm run bench`: how close the service is to its own physical limit, side by side in one run
 * (DESIGN, issue 6). Starts its own DynamoDB Local, event bus stand-in (no consumers attached,
 * so only the measured code touches the table) and Stripe/GitHub/GitLab stand-ins, seeds data,
 * runs the five sections, writes bench/results/<timestamp>.json and prints a markdown summary.
 * Ratios and medians only; nothing here asserts a time. BENCH_SCALE=0.2 makes a quick run.
 */

// Configuration is read at module load, so the environment comes before any service import.
Object.assign(process.env, {
  TABLE_NAME: 'organizations-bench',
  EVENT_BUS_NAME: 'organizations-bench',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64'),
  STRIPE_SECRET_KEY: 'sk_test_local',
  STRIPE_WEBHOOK_SECRET: 'whsec_bench_local',
  GITHUB_WEBHOOK_SECRET: 'github-webhook-secret-bench',
  GITLAB_WEBHOOK_TOKEN: 'gitlab-webhook-token-bench',
  LOG_LEVEL: 'SILENT',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});
delete process.env.DYNAMODB_ENDPOINT;
delete process.env.EVENTS_ENDPOINT;
for (const name of ['STRIPE_API_BASE', 'GITHUB_API_BASE', 'GITLAB_API_BASE']) {
  delete process.env[name];
}

const settings = {
  coldRounds: scaled(7, 3),
  warmIterations: scaled(300, 20),
  ingestionEvents: scaled(10_000, 200),
  // The deployed queue's batch size first (the headline), then SQS's default for comparison.
  ingestionBatchSizes: [queueBatching.batchSize, 10],
  baselineEvents: scaled(2_000, 100),
  financialMembers: scaled(10_000, 300),
  financialPasses: 2,
};

async function main(): Promise<void> {
  const started = performance.now();
  const { startLocalStack } = await import('#local/start');
  console.log('# Organizations service bench\n');
  console.log('starting DynamoDB Local, event bus and stand-ins...');
  const stack = await startLocalStack({ freePorts: true, rules: [] });
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'organizations-bench-'));
  try {
    const clients = {
      ...(await import('#platform/aws-clients')),
      ...(await import('#platform/event-bridge')),
    };
    const { installCounter } = await import('./counter.ts');
    const counter = installCounter(clients);
    const { seedFixtures } = await import('./fixtures.ts');
    const { catalogueScenarios } = await import('./scenarios.ts');

    const { scenarios, unmeasured } = catalogueScenarios(entryExists);
    for (const item of unmeasured) console.log(`not measured: ${item.id}: ${item.reason}`);
    console.log(`seeding (an organization of ${settings.financialMembers} members included)...`);
    const fx = await seedFixtures(entryExists, settings.financialMembers);

    const sectionSeconds: Record<string, number> = {};
    let lapStart = started;
    const lap = (name: string) => {
      sectionSeconds[name] = round((performance.now() - lapStart) / 1000, 0);
      lapStart = performance.now();
    };
    lap('start and seed');

    const { measureColdStarts } = await import('./cold-start.ts');
    const childEnv = { ...stack.env, LOG_LEVEL: 'INFO', NODE_ENV: 'production' };
    const cold = await measureColdStarts({
      scenarios,
      fx,
      env: childEnv,
      outDir,
      rounds: settings.coldRounds,
    });

    lap('cold start');

    const { measureWarm } = await import('./warm.ts');
    const warm = await measureWarm({ fx, scenarios, iterations: settings.warmIterations });

    lap('warm');

    const { measureRoundTrips } = await import('./round-trips.ts');
    const roundTrips = await measureRoundTrips({ fx, scenarios, counter });

    lap('round trips');

    let usage: IngestionResult | undefined;
    let usageNote: string | undefined;
    if (entryExists('functions/consumers/usage.ts')) {
      try {
        const { measureUsageIngestion } = await import('./usage-ingestion.ts');
        usage = await measureUsageIngestion({
          counter,
          events: settings.ingestionEvents,
          batchSizes: settings.ingestionBatchSizes,
          baselineEvents: settings.baselineEvents,
        });
      } catch (error) {
        usageNote = (error as Error).message.split('\n')[0];
        console.log(`\nnot measured: usage ingestion: ${usageNote}`);
      }
    } else {
      usageNote = 'functions/consumers/usage.ts does not exist yet';
      console.log(`\nnot measured: usage ingestion: ${usageNote}`);
    }

    lap('usage ingestion');

    const financialScenario = scenarios.find((s) => s.id === 'getMembersFinancial');
    let financial: FinancialResult | undefined;
    if (financialScenario) {
      try {
        const { measureFinancial } = await import('./financial.ts');
        financial = await measureFinancial({
          fx,
          scenario: financialScenario,
          members: settings.financialMembers,
          passes: settings.financialPasses,
        });
      } catch (error) {
        console.log(
          `\nnot measured: members/financial: ${(error as Error).message.split('\n')[0]}`,
        );
      }
    } else {
      console.log('\nnot measured: members/financial: its handler does not exist yet');
    }

    lap('members/financial');

    const machine = {
      cores: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGb: round(os.totalmem() / 1024 ** 3, 1),
      node: process.version,
      platform: `${os.platform()} ${os.arch()}`,
    };
    const runtimeSeconds = round((performance.now() - started) / 1000, 0);
    const date = new Date().toISOString();
    const results = {
      date,
      machine,
      settings,
      runtimeSeconds,
      sectionSeconds,
      bundling:
        'esbuild as lib/constructs/service-function.ts: one entry per function re-exporting ' +
        'its handler, node22, ESM, minify, external source map, AWS SDK v3 bundled ' +
        '(externalModules: [])',
      coldStart: cold,
      warm,
      roundTrips,
      usage: usage ?? { notMeasured: usageNote },
      financial: financial ?? { notMeasured: 'handler missing' },
      notMeasured: [...unmeasured, ...cold.notMeasured, ...warm.unmeasured],
    };
    const resultsDir = path.join(repoRoot, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    const file = path.join(resultsDir, `${date.replaceAll(':', '-').replace(/\..*/, '')}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);

    section(
      `Summary (${date.slice(0, 10)}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node})`,
    );
    const worstCold = [...cold.rows].sort((a, b) => b.ratio - a.ratio)[0];
    const coldMissed = cold.rows.filter((row) => row.ratio > 1.3);
    const rows: Array<Array<string | number>> = [
      [
        `Cold start, load + first request / baseline (median of ${settings.coldRounds})`,
        `${cold.rows.length} functions; worst ${worstCold?.id} ${worstCold?.ratio.toFixed(2)}; ` +
          `${coldMissed.length} over 1.3`,
        '<= 1.3 each',
        coldMissed.length === 0 ? 'met' : 'missed',
      ],
      [
        'Largest bundle',
        `${cold.largest.entry} ${cold.largest.kb} KB (baseline ${cold.baselineKb} KB)`,
        '-',
        '-',
      ],
      ...warm.rows.map((row) => [
        `Warm: ${row.label}, handler / bare SDK`,
        row.ratio.toFixed(2),
        '<= 1.2',
        verdict(row.ratio, 1.2),
      ]),
      [
        'Round trips at the key-design minimum',
        `${roundTrips.filter((r) => r.verdict !== 'over').length}/${roundTrips.length}; over: ` +
          (roundTrips
            .filter((r) => r.verdict === 'over')
            .map((r) => `${r.id} ${r.dynamo}/${r.rounds}/${r.events}`)
            .join(', ') || 'none'),
        'minimum (DynamoDB/rounds/PutEvents)',
        roundTrips.every((r) => r.verdict !== 'over') ? 'met' : 'missed',
      ],
    ];
    if (usage) {
      for (const run of usage.runs) {
        rows.push([
          `Usage: ${run.events} events, batch ${run.batchSize}: balance writes / event`,
          `1/${round(1 / run.balanceWritesPerEvent, 1)}; totals ${run.totalsExact ? 'exact' : 'WRONG'}`,
          '<= 1/20',
          run.balanceWritesPerEvent <= usage.targetPerEvent ? 'met' : 'missed',
        ]);
      }
      rows.push([
        `Usage: events/s, consumer (batch ${queueBatching.batchSize}) / one transaction per event`,
        `${usage.throughputRatio}x`,
        '-',
        '-',
      ]);
    }
    if (financial) {
      rows.push([
        `members/financial, ${financial.members} members: page of 100, handler / raw Query`,
        financial.ratio.toFixed(2),
        '-',
        '-',
      ]);
    }
    console.log(markdownTable(['measure', 'result', 'target', 'verdict'], rows));
    console.log(`\nresults: ${path.relative(repoRoot, file)} (bench took ${runtimeSeconds} s)`);
  } finally {
    await stack.stop();
    rmSync(outDir, { recursive: true, force: true });
  }
}

await main();
