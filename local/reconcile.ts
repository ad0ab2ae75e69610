import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * `npm run reconcile [orgId]`: checks, for one organization or all of them, that the balance
 * equals the sum of its ledger entries, that each total (purchased, spent, refunded, disputed)
 * equals the sum of its kind of entries, and that members' spend adds up to the organization's
 * spent total. Prints every difference; exits 1 on any. Tests call `reconcileOrganization` after
 * every scenario.
 *
 * Data modules are imported lazily so the command can fill in the local stack's defaults
 * (TABLE_NAME, DYNAMODB_ENDPOINT) before they read their configuration.
 */
export interface ReconcileReport {
  orgId: string;
  ok: boolean;
  balanceMicros: number;
  ledgerSumMicros: number;
  entryCount: number;
  differences: string[];
}

export async function reconcileOrganization(orgId: string): Promise<ReconcileReport> {
  const { getCreditBalance, listAllLedgerEntries } = await import('#data/credits');
  const { listAllMemberSpend } = await import('#data/usage');
  const [balance, entries, members] = await Promise.all([
    getCreditBalance(orgId),
    listAllLedgerEntries(orgId),
    listAllMemberSpend(orgId),
  ]);

  const sumOf = (kind?: string) =>
    entries
      .filter((entry) => kind === undefined || entry.kind === kind)
      .reduce((sum, entry) => sum + entry.amountMicros, 0);
  const ledgerSumMicros = sumOf();
  const memberSpend = members.reduce((sum, member) => sum + member.lifetimeSpentMicros, 0);

  const checks: [string, number, number][] = [
    ['balance vs sum of ledger entries', balance.balanceMicros, ledgerSumMicros],
    ['purchased vs purchase entries', balance.purchasedMicros, sumOf('purchase')],
    ['spent vs usage entries', balance.spentMicros, -sumOf('usage')],
    ['refunded vs refund entries', balance.refundedMicros, -sumOf('refund')],
    ['disputed vs dispute entries', balance.disputedMicros, -sumOf('dispute')],
    [
      "spent vs members' spend (+ unattributed)",
      balance.spentMicros,
      memberSpend + balance.unattributedSpentMicros,
    ],
  ];
  const differences = checks
    .filter(([, stored, computed]) => stored !== computed)
    .map(([what, stored, computed]) => `${what}: ${stored} != ${computed}`);

  return {
    orgId,
    ok: differences.length === 0,
    balanceMicros: balance.balanceMicros,
    ledgerSumMicros,
    entryCount: entries.length,
    differences,
  };
}

/** Every organization that has a balance item (a table scan: an operator tool, not a route). */
export async function organizationsWithBalances(): Promise<string[]> {
  const { ScanCommand } = await import('@aws-sdk/lib-dynamodb');
  const { documentClient } = await import('#platform/aws-clients');
  const { tableName } = await import('#data/table');
  const orgIds: string[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documentClient.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'entity = :balance',
        ExpressionAttributeValues: { ':balance': 'CreditBalance' },
        ProjectionExpression: 'orgId',
        ExclusiveStartKey: startKey,
      }),
    );
    orgIds.push(...(page.Items ?? []).map((item) => String(item.orgId)));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return orgIds;
}

async function main(): Promise<void> {
  const { localSettings, configuredPorts } = await import('#local/config');
  process.env.TABLE_NAME ||= localSettings.tableName;
  process.env.DYNAMODB_ENDPOINT ||= `http://127.0.0.1:${configuredPorts().dynamodb}`;
  process.env.AWS_ACCESS_KEY_ID ||= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ||= 'local';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ||= 'true';

  const only = process.argv[2];
  const orgIds = only ? [only] : await organizationsWithBalances();
  let failures = 0;
  for (const orgId of orgIds) {
    const report = await reconcileOrganization(orgId);
    if (report.ok && report.entryCount === 0 && report.balanceMicros === 0) {
      console.log(`ok    ${orgId}  no credit activity (or no such organization)`);
    } else if (report.ok) {
      console.log(
        `ok    ${orgId}  balance ${report.balanceMicros} micros, ${report.entryCount} entries`,
      );
    } else {
      failures++;
      console.log(`FAIL  ${orgId}`);
      for (const difference of report.differences) console.log(`      ${difference}`);
    }
  }
  const scope = only ? '' : ' with a credit account';
  console.log(`${orgIds.length} organization(s)${scope} checked, ${failures} with differences`);
  process.exitCode = failures > 0 ? 1 : 0;
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  main().catch((error: unknown) => {
    const hint = /ECONNREFUSED/.test(String((error as Error).message ?? error))
      ? ` (is \`npm start\` running? set DYNAMODB_PORT or DYNAMODB_ENDPOINT if it uses another port)`
      : '';
    console.error(`reconcile failed: ${(error as Error).message}${hint}`);
    process.exitCode = 1;
  });
}
