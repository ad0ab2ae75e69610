import { loadHandler } from '#local/lambda';
import { lambdaContext } from '#test/support/api-event';
import { type CallCounter, summarise } from './counter.ts';
import type { BenchFixtures } from './fixtures.ts';
import type { Scenario } from './scenarios.ts';
import { markdownTable, section } from './support.ts';

/**
 * Section 3: AWS calls per route and consumer, counted by the middleware on the service's
 * clients, against the minimum the key design allows (scenarios.ts, with the reason). A row is
 * `over` when it makes more DynamoDB calls, more sequential rounds or more PutEvents calls.
 */
export interface RoundTripRow {
  id: string;
  kind: Scenario['kind'];
  status: string;
  dynamo: number;
  rounds: number;
  events: number;
  operations: string;
  minimum: Scenario['minimum'];
  verdict: 'at minimum' | 'over' | 'below';
}

export async function measureRoundTrips(options: {
  fx: BenchFixtures;
  scenarios: Scenario[];
  counter: CallCounter;
}): Promise<RoundTripRow[]> {
  section('3. Round trips (AWS calls per request vs the key design minimum)');
  const rows: RoundTripRow[] = [];
  for (const scenario of options.scenarios) {
    let event: unknown;
    let handler: Awaited<ReturnType<typeof loadHandler>>;
    try {
      handler = await loadHandler(scenario.entry, scenario.exportName);
      event = await scenario.prepare(options.fx);
    } catch (error) {
      console.log(`not measured: ${scenario.id}: ${(error as Error).message.split('\n')[0]}`);
      continue;
    }
    options.counter.reset();
    let status: string;
    try {
      const result = (await handler(event, lambdaContext)) as { statusCode?: number } | undefined;
      status = String(result?.statusCode ?? 'ok');
    } catch (error) {
      status = `threw ${(error as Error).name}`;
    }
    const calls = summarise(options.counter.calls);
    const { minimum } = scenario;
    const over =
      calls.dynamo > minimum.dynamo ||
      calls.rounds > minimum.rounds ||
      calls.events > minimum.events;
    const below =
      calls.dynamo < minimum.dynamo ||
      calls.rounds < minimum.rounds ||
      calls.events < minimum.events;
    rows.push({
      id: scenario.id,
      kind: scenario.kind,
      status,
      ...calls,
      minimum,
      verdict: over ? 'over' : below ? 'below' : 'at minimum',
    });
  }
  console.log(
    markdownTable(
      [
        'function',
        'status',
        'calls (DynamoDB/rounds/PutEvents)',
        'minimum',
        'verdict',
        'calls made',
        'minimum because',
      ],
      rows.map((row) => [
        row.id,
        row.status,
        `${row.dynamo}/${row.rounds}/${row.events}`,
        `${row.minimum.dynamo}/${row.minimum.rounds}/${row.minimum.events}`,
        row.verdict,
        row.operations,
        row.minimum.why,
      ]),
    ),
  );
  return rows;
}
