import { describe, expect, it } from 'vitest';
import * as members from '#api/members';
import { handler as chargeUsage } from '#consumers/usage';
import { reconcileOrganization } from '#local/reconcile';
import { freshId, seedTeam, sqsBatch, usageEnvelope } from '#test/integration/money-setup';
import { apiEvent, invoke } from '#test/support/api-event';

describe('a member who spent credits leaves', () => {
  it('keeps their spend in the organization’s books so reconcile still balances', async () => {
    const { orgId, owner, member } = await seedTeam();
    const usage = usageEnvelope({
      usageId: freshId('usage'),
      orgId,
      userId: member.userId,
      costMicros: 2_500_000,
    });
    const result = await chargeUsage(sqsBatch([usage]));
    expect(result).toEqual({ batchItemFailures: [] });

    const removed = await invoke(
      members.removeMember,
      apiEvent({
        method: 'DELETE',
        path: '',
        params: { orgId, userId: member.userId },
        userId: owner.userId,
        email: owner.email,
      }),
    );
    expect(removed.statusCode).toBe(204);

    const report = await reconcileOrganization(orgId);
    expect(report.differences).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
