import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { handler as usageConsumer } from '#consumers/usage';
import { getCreditBalance, listAllLedgerEntries } from '#data/credits';
import { memberSk, orgPk } from '#data/keys';
import { getMembership } from '#data/memberships';
import { tableName } from '#data/table';
import { chunksWithinTransactLimit } from '#data/usage';
import { reconcileOrganization } from '#local/reconcile';
import { documentClient } from '#platform/aws-clients';
import { freshId, seedTeam, sqsBatch, usageEnvelope } from '#test/integration/money-setup';

const orgsToReconcile: string[] = [];

afterEach(async () => {
  for (const orgId of orgsToReconcile.splice(0)) {
    expect((await reconcileOrganization(orgId)).differences).toEqual([]);
  }
});

async function newTeam() {
  const team = await seedTeam();
  orgsToReconcile.push(team.orgId);
  return team;
}

describe('usage consumer', () => {
  it('charges the organization and adds to each member’s lifetime and monthly spend', async () => {
    const { orgId, admin, member } = await newTeam();
    const at = '2026-03-15T10:00:00.000Z';

    const response = await usageConsumer(
      sqsBatch([
        usageEnvelope({
          usageId: freshId('u'),
          orgId,
          userId: admin.userId,
          costMicros: 1_250_000,
          occurredAt: at,
        }),
        usageEnvelope({
          usageId: freshId('u'),
          orgId,
          userId: member.userId,
          costMicros: 333_333,
          occurredAt: at,
        }),
        usageEnvelope({
          usageId: freshId('u'),
          orgId,
          userId: member.userId,
          costMicros: 1,
          occurredAt: at,
        }),
      ]),
    );

    expect(response.batchItemFailures).toEqual([]);
    const balance = await getCreditBalance(orgId);
    expect(balance.balanceMicros).toBe(-1_583_334);
    expect(balance.spentMicros).toBe(1_583_334);
    expect(balance.spentByMonth).toEqual({ '2026-03': 1_583_334 });
    const memberRecord = await getMembership(orgId, member.userId);
    expect(memberRecord?.lifetimeSpentMicros).toBe(333_334);
    expect(memberRecord?.spentByMonth).toEqual({ '2026-03': 333_334 });
    expect((await getMembership(orgId, admin.userId))?.lifetimeSpentMicros).toBe(1_250_000);
  });

  it('charges a usage id once when it is delivered twice in a batch and again in a later batch', async () => {
    const { orgId, member } = await newTeam();
    const usage = usageEnvelope({
      usageId: freshId('u'),
      orgId,
      userId: member.userId,
      costMicros: 700_000,
    });

    await usageConsumer(sqsBatch([usage, usage]));
    const again = await usageConsumer(sqsBatch([usage]));

    expect(again.batchItemFailures).toEqual([]);
    expect((await getCreditBalance(orgId)).balanceMicros).toBe(-700_000);
    expect((await getMembership(orgId, member.userId))?.lifetimeSpentMicros).toBe(700_000);
  });

  it('drops only the already-charged ids of a batch and charges the rest', async () => {
    const { orgId, member } = await newTeam();
    const seen = usageEnvelope({
      usageId: freshId('u'),
      orgId,
      userId: member.userId,
      costMicros: 100,
    });
    await usageConsumer(sqsBatch([seen]));

    await usageConsumer(
      sqsBatch([
        seen,
        usageEnvelope({ usageId: freshId('u'), orgId, userId: member.userId, costMicros: 20 }),
      ]),
    );

    expect((await getCreditBalance(orgId)).spentMicros).toBe(120);
  });

  it('writes one ledger entry per organization per batch', async () => {
    const first = await newTeam();
    const second = await newTeam();
    const events = [first, second].flatMap(({ orgId, member, admin }) => [
      usageEnvelope({ usageId: freshId('u'), orgId, userId: member.userId, costMicros: 5 }),
      usageEnvelope({ usageId: freshId('u'), orgId, userId: admin.userId, costMicros: 7 }),
    ]);

    await usageConsumer(sqsBatch(events));

    for (const { orgId } of [first, second]) {
      const entries = await listAllLedgerEntries(orgId);
      expect(entries.map((entry) => [entry.kind, entry.amountMicros, entry.usageCount])).toEqual([
        ['usage', -12, 2],
      ]);
    }
  });

  it('splits a large batch into transactions under DynamoDB’s 100-item limit', async () => {
    const { orgId, owner, admin, member } = await newTeam();
    const users = [owner, admin, member];
    const events = Array.from({ length: 250 }, (_, index) =>
      usageEnvelope({
        usageId: freshId('u'),
        orgId,
        userId: (users[index % 3] ?? owner).userId,
        costMicros: 1_000,
      }),
    );

    const response = await usageConsumer(sqsBatch(events));

    expect(response.batchItemFailures).toEqual([]);
    expect((await getCreditBalance(orgId)).spentMicros).toBe(250_000);
    expect((await listAllLedgerEntries(orgId)).map((entry) => entry.usageCount)).toEqual(
      expect.arrayContaining([95, 95, 60]),
    );
  });

  it('reports an unparseable record as a batch item failure and charges the others', async () => {
    const { orgId, member } = await newTeam();
    const good = sqsBatch([
      usageEnvelope({ usageId: freshId('u'), orgId, userId: member.userId, costMicros: 9 }),
    ]);
    const poison = sqsBatch([
      usageEnvelope({ usageId: freshId('u'), orgId, userId: member.userId, costMicros: -9 }),
    ]);
    const batch = { Records: [...good.Records, ...poison.Records] };
    const poisonId = poison.Records[0]?.messageId;

    const response = await usageConsumer(batch);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: poisonId }]);
    expect((await getCreditBalance(orgId)).spentMicros).toBe(9);
  });

  it('charges usage of a member who has left to the organization as unattributed spend', async () => {
    const { orgId, member, admin } = await newTeam();
    await documentClient.send(
      new DeleteCommand({
        TableName: tableName,
        Key: { pk: orgPk(orgId), sk: memberSk(member.userId) },
      }),
    );

    await usageConsumer(
      sqsBatch([
        usageEnvelope({ usageId: freshId('u'), orgId, userId: member.userId, costMicros: 40 }),
        usageEnvelope({ usageId: freshId('u'), orgId, userId: admin.userId, costMicros: 2 }),
      ]),
    );

    const balance = await getCreditBalance(orgId);
    expect(balance.spentMicros).toBe(42);
    expect(balance.unattributedSpentMicros).toBe(40);
    expect(await getMembership(orgId, member.userId)).toBeUndefined();
    expect((await getMembership(orgId, admin.userId))?.lifetimeSpentMicros).toBe(2);
  });

  it('keeps chunks within 100 items counting markers, members and the fixed items', () => {
    const usages = Array.from({ length: 300 }, (_, index) => ({
      usageId: `u${index}`,
      orgId: 'org_chunks1',
      userId: `user${index % 40}`,
      costMicros: 1,
      occurredAt: '2026-01-01T00:00:00.000Z',
    }));

    const chunks = chunksWithinTransactLimit(usages);

    for (const chunk of chunks) {
      const members = new Set(chunk.map((usage) => usage.userId)).size;
      expect(chunk.length + members + 2).toBeLessThanOrEqual(100);
    }
    expect(chunks.flat()).toHaveLength(300);
  });
});
