import { performance } from 'node:perf_hooks';
import { loadHandler } from '#local/lambda';
import { documentClient } from '#platform/aws-clients';
import { invoke } from '#test/support/api-event';
import type { BenchFixtures } from './fixtures.ts';
import type { Scenario } from './scenarios.ts';
import { median, round, section } from './support.ts';
import { financialQuery } from './warm.ts';

/**
 * Section 5: GET members/financial over an organization of 10,000 members, every page of 100
 * followed by its cursor, each page timed against a raw Query of the same page (same start key,
 * projection and limit), alternating which goes first.
 */
export interface FinancialResult {
  members: number;
  pagesPerPass: number;
  passes: number;
  handlerMedianMs: number;
  rawMedianMs: number;
  ratio: number;
  membersSeen: number;
}

export async function measureFinancial(options: {
  fx: BenchFixtures;
  scenario: Scenario;
  members: number;
  passes: number;
}): Promise<FinancialResult> {
  section('5. members/financial over 10,000 members (pages of 100)');
  const { fx, scenario } = options;
  const handler = await loadHandler(scenario.entry, scenario.exportName);
  const month = new Date().toISOString().slice(0, 7);
  const handlerTimes: number[] = [];
  const rawTimes: number[] = [];
  let pages = 0;
  let membersSeen = 0;

  for (let pass = 0; pass < options.passes; pass++) {
    let cursor: string | undefined;
    pages = 0;
    membersSeen = 0;
    do {
      const event = (await scenario.prepare(fx)) as {
        queryStringParameters?: Record<string, string>;
        rawQueryString: string;
      };
      if (cursor) {
        event.queryStringParameters = { limit: '100', cursor };
        event.rawQueryString = new URLSearchParams(event.queryStringParameters).toString();
      }
      // The cursor is the page's LastEvaluatedKey, opaque to clients but not to the bench.
      const startKey = cursor ? JSON.parse(Buffer.from(cursor, 'base64url').toString()) : undefined;
      let response: Awaited<ReturnType<typeof invoke>> | undefined;
      const viaHandler = async () => {
        const start = performance.now();
        response = await invoke(handler as Parameters<typeof invoke>[0], event);
        handlerTimes.push(performance.now() - start);
      };
      const raw = async () => {
        const start = performance.now();
        await documentClient.send(financialQuery(fx.bigOrgId, month, startKey));
        rawTimes.push(performance.now() - start);
      };
      if (pages % 2 === 0) {
        await viaHandler();
        await raw();
      } else {
        await raw();
        await viaHandler();
      }
      const page = response as Awaited<ReturnType<typeof invoke>>;
      if (page.statusCode !== 200) {
        throw new Error(
          `members/financial answered ${page.statusCode}: ${JSON.stringify(page.body)}`,
        );
      }
      membersSeen += page.body.members.length;
      // Lists answer their cursor as `cursor` (older handlers said `nextCursor`).
      cursor = page.body.cursor ?? page.body.nextCursor ?? undefined;
      pages++;
    } while (cursor);
  }

  const handlerMedianMs = median(handlerTimes);
  const rawMedianMs = median(rawTimes);
  const result: FinancialResult = {
    members: options.members,
    pagesPerPass: pages,
    passes: options.passes,
    handlerMedianMs: round(handlerMedianMs, 2),
    rawMedianMs: round(rawMedianMs, 2),
    ratio: round(handlerMedianMs / rawMedianMs),
    membersSeen,
  };
  console.log(
    `${pages} pages per pass, ${options.passes} passes, ${membersSeen} members listed per pass ` +
      `(of ${options.members}); median per page, handler / raw Query: ${result.ratio.toFixed(2)}`,
  );
  return result;
}
