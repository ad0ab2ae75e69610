import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { memberSk, orgPk } from '#data/keys';
import { routeEntryFile } from '#lib/route-entry';
import type { BenchFixtures } from './fixtures.ts';
import { benchUsers } from './fixtures.ts';
import type { Scenario } from './scenarios.ts';
import { markdownTable, median, repoRoot, round, section } from './support.ts';

/**
 * Section 1: cold starts. Each function is bundled as the CDK stack bundles it
 * (lib/constructs/service-function.ts: a per-function entry re-exporting only its handler
 * (lib/route-entry.ts), esbuild, node22, ESM, minified, external source map, the AWS SDK
 * bundled too since `externalModules: []`), and a fresh `node --enable-source-maps`
 * (as NODE_OPTIONS sets in Lambda) loads the bundle and serves one request against DynamoDB
 * Local. The time from before the import to the first response is compared with a baseline
 * bundle that only creates the document client and does one GetItem, run right before or after
 * it (alternating) in every round; ratios divide by the median of all baseline runs.
 */
export interface BundleInfo {
  /** The module, followed by the handler when only that export was bundled. */
  entry: string;
  file: string;
  bytes: number;
  metafile: Metafile;
}

export interface ColdStartRow {
  id: string;
  entry: string;
  bundleKb: number;
  status: string;
  medianMs: number;
  baselineMedianMs: number;
  ratio: number;
  /** Module load alone (Lambda's Init) and the first request alone, each over the baseline's. */
  loadRatio: number;
  firstRequestRatio: number;
}

const childScript = path.join(repoRoot, 'bench', 'cold-child.mjs');
const baselineEntry = 'bench/baseline-handler.ts';

/** Bundles `entry`, or only its `handler` export when given (as the stack deploys it). */
export async function bundleEntry(
  entry: string,
  outDir: string,
  handler?: string,
): Promise<BundleInfo> {
  const name = `${entry.replace(/\.ts$/, '').replaceAll('/', '-')}${handler ? `.${handler}` : ''}`;
  const file = path.join(outDir, `${name}.mjs`);
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: [handler ? routeEntryFile(entry, handler, repoRoot) : path.join(repoRoot, entry)],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    sourcemap: 'external',
    sourcesContent: false,
    mainFields: ['module', 'main'],
    banner: {
      js: "import { createRequire } from 'node:module';const require = createRequire(import.meta.url);",
    },
    metafile: true,
    logLevel: 'silent',
  });
  const output = result.metafile.outputs[path.relative(repoRoot, file)];
  const label = handler ? `${entry} ${handler}` : entry;
  return { entry: label, file, bytes: output?.bytes ?? 0, metafile: result.metafile };
}

interface ChildResult {
  loadMs: number;
  firstMs: number;
  status?: number;
}

interface Samples {
  fn: ChildResult[];
  base: ChildResult[];
  status: Set<string>;
}

const emptySamples = (): Samples => ({ fn: [], base: [], status: new Set<string>() });

function runChild(
  bundle: string,
  exportName: string,
  eventFile: string,
  env: Record<string, string>,
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--enable-source-maps', childScript, bundle, exportName, eventFile],
      { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('BENCH '));
      if (!line) {
        const lines = err.trim().split('\n');
        const reason = lines.find((l) => /Error\b/.test(l)) ?? lines.at(-1) ?? '';
        reject(new Error(`cold start of ${path.basename(bundle)} failed (${code}): ${reason}`));
        return;
      }
      resolve(JSON.parse(line.slice(6)) as ChildResult);
    });
  });
}

export async function measureColdStarts(options: {
  scenarios: Scenario[];
  fx: BenchFixtures;
  env: Record<string, string>;
  outDir: string;
  rounds: number;
}): Promise<{
  rows: ColdStartRow[];
  notMeasured: Array<{ id: string; reason: string }>;
  baselineKb: number;
  largest: { entry: string; kb: number; dependencies: Array<{ name: string; kb: number }> };
}> {
  const { scenarios, fx, env, outDir, rounds } = options;
  section('1. Cold start (fresh node process: load bundle + first request)');

  const bundles = new Map<string, BundleInfo>();
  const baseline = await bundleEntry(baselineEntry, outDir);
  for (const scenario of scenarios) {
    const key = bundleKey(scenario);
    if (!bundles.has(key)) {
      bundles.set(key, await bundleEntry(scenario.entry, outDir, scenario.exportName));
    }
  }
  const baselineEvent = path.join(outDir, 'baseline-event.json');
  writeFileSync(
    baselineEvent,
    JSON.stringify({ key: { pk: orgPk(fx.orgId), sk: memberSk(benchUsers.member.userId) } }),
  );
  console.log(
    `bundled ${bundles.size} functions (+ baseline) in ${outDir}; ` +
      `${rounds} rounds x ${scenarios.length} functions, each paired with a baseline run`,
  );

  const samples = new Map<string, Samples>();
  const failures = new Map<string, string>();
  for (let r = 0; r < rounds; r++) {
    for (const scenario of scenarios) {
      if (failures.has(scenario.id)) continue;
      const bundle = bundles.get(bundleKey(scenario)) as BundleInfo;
      const eventFile = path.join(outDir, `event-${scenario.id}.json`);
      const entry = samples.get(scenario.id) ?? emptySamples();
      samples.set(scenario.id, entry);
      const runFn = async () => {
        const result = await runChild(bundle.file, scenario.exportName, eventFile, env);
        entry.fn.push(result);
        entry.status.add(result.status === undefined ? 'ok' : String(result.status));
      };
      const runBase = async () => {
        const result = await runChild(baseline.file, 'handler', baselineEvent, env);
        entry.base.push(result);
      };
      try {
        writeFileSync(eventFile, JSON.stringify(await scenario.prepare(fx)));
        if (r % 2 === 0) {
          await runBase();
          await runFn();
        } else {
          await runFn();
          await runBase();
        }
      } catch (error) {
        failures.set(scenario.id, (error as Error).message.split('\n')[0] ?? 'failed');
        samples.delete(scenario.id);
        console.log(`not measured: ${scenario.id}: ${failures.get(scenario.id)}`);
      }
    }
    console.log(`  round ${r + 1}/${rounds} done`);
  }

  // Every function run has a baseline run next to it; the ratio divides by the median of all
  // of them, which is steadier than the few runs paired with one function.
  const allBase = [...samples.values()].flatMap((s) => s.base);
  const total = (r: ChildResult) => r.loadMs + r.firstMs;
  const baseMedian = median(allBase.map(total));
  const measured = scenarios.filter((scenario) => samples.has(scenario.id));
  const rows: ColdStartRow[] = measured.map((scenario) => {
    const s = samples.get(scenario.id) as Samples;
    const fnMedian = median(s.fn.map(total));
    const part = (pick: (r: ChildResult) => number) =>
      round(median(s.fn.map(pick)) / median(allBase.map(pick)));
    return {
      id: scenario.id,
      entry: scenario.entry,
      bundleKb: round((bundles.get(bundleKey(scenario)) as BundleInfo).bytes / 1024, 0),
      status: [...s.status].join('/'),
      medianMs: round(fnMedian, 1),
      baselineMedianMs: round(baseMedian, 1),
      ratio: round(fnMedian / baseMedian),
      loadRatio: part((r) => r.loadMs),
      firstRequestRatio: part((r) => r.firstMs),
    };
  });

  const largestBundle = [...bundles.values()].sort((a, b) => b.bytes - a.bytes)[0] as BundleInfo;
  const dependencies = largestDependencies(largestBundle);
  console.log(
    markdownTable(
      [
        'function',
        'entry',
        'bundle KB',
        'first status',
        'ratio to baseline',
        'load only',
        'first request only',
        'target 1.3',
      ],
      rows.map((row) => [
        row.id,
        row.entry,
        row.bundleKb,
        row.status,
        row.ratio.toFixed(2),
        row.loadRatio.toFixed(2),
        row.firstRequestRatio.toFixed(2),
        row.ratio <= 1.3 ? 'met' : 'missed',
      ]),
    ),
  );
  console.log(
    `\nbaseline bundle: ${round(baseline.bytes / 1024, 0)} KB. Largest bundle: ` +
      `${largestBundle.entry} (${round(largestBundle.bytes / 1024, 0)} KB); its largest parts:`,
  );
  console.log(
    markdownTable(
      ['package', 'KB in bundle', 'share'],
      dependencies.map((d) => [
        d.name,
        d.kb,
        `${round((d.kb * 1024 * 100) / largestBundle.bytes, 1)}%`,
      ]),
    ),
  );
  return {
    rows,
    notMeasured: [...failures].map(([id, reason]) => ({ id, reason })),
    baselineKb: round(baseline.bytes / 1024, 0),
    largest: {
      entry: largestBundle.entry,
      kb: round(largestBundle.bytes / 1024, 0),
      dependencies,
    },
  };
}

const bundleKey = (scenario: Scenario) => `${scenario.entry}#${scenario.exportName}`;

/** Bytes in the bundle per npm package (service code counted as one). */
function largestDependencies(bundle: BundleInfo): Array<{ name: string; kb: number }> {
  const output = Object.values(bundle.metafile.outputs).find((o) => o.entryPoint);
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    // The innermost node_modules names the package (nested copies count as themselves).
    const matches = [...input.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
    const name = matches.at(-1)?.[1] ?? '(service code)';
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
  return [...byPackage]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([name, bytes]) => ({ name, kb: round(bytes / 1024, 0) }));
}
