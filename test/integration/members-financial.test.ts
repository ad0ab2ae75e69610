import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getMembersFinancial } from '#api/usage';
import { handler as usageConsumer } from '#consumers/usage';
import { getCreditBalance } from '#data/credits';
import { listMembersSpend } from '#data/usage';
import { reconcileOrganization } from '#local/reconcile';
import {
  freshId,
  type SeedMember,
  seedOrganization,
  sqsBatch,
  usageEnvelope,
} from '#test/integration/money-setup';
import { apiEvent, invoke } from '#test/support/api-event';

/**
 * One organization of 300 members: an owner, an admin, and members whose emails are
 * `Person-<n>@Example.com`; every seventh member (n = 0, 7, 14...) has a `@Partner.io` address.
 */
const memberCount = 300;
let orgId: string;
let members: SeedMember[];
const owner: SeedMember = { userId: freshId('user'), role: 'owner', email: 'boss@example.com' };
const admin: SeedMember = { userId: freshId('user'), role: 'admin', email: 'ops@example.com' };
const thisMonth = new Date().toISOString().slice(0, 7);

beforeAll(async () => {
  members = Array.from({ length: memberCount }, (_, n) => ({
    userId: freshId(`user${String(n).padStart(3, '0')}`),
    role: 'member' as const,
    email: n % 7 === 0 ? `Person-${n}@Partner.io` : `Person-${n}@Example.com`,
  }));
  orgId = await seedOrganization([owner, admin, ...members]);

  const spend = (user: SeedMember, costMicros: number, occurredAt?: string) =>
    usageEnvelope({ usageId: freshId('u'), orgId, userId: user.userId, costMicros, occurredAt });
  const charged = await usageConsumer(
    sqsBatch([
      spend(members[0] as SeedMember, 3_000_000),
      spend(members[1] as SeedMember, 1_000_000),
      spend(members[1] as SeedMember, 2_000_000, '2025-12-31T23:59:59.000Z'),
      spend(admin, 4_000_000),
    ]),
  );
  expect(charged.batchItemFailures).toEqual([]);
});

afterAll(async () => {
  expect((await reconcileOrganization(orgId)).differences).toEqual([]);
});

function financial(userId: string, query: Record<string, string> = {}) {
  return invoke(
    getMembersFinancial,
    apiEvent({
      method: 'GET',
      path: `/api/organizations/${orgId}/members/financial`,
      params: { orgId },
      query,
      userId,
    }),
  );
}

interface FinancialRow {
  userId: string;
  email: string;
  lifetimeSpentMicros: number;
}

async function walk(userId: string, query: Record<string, string>) {
  const seen: FinancialRow[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const response = await financial(userId, cursor ? { ...query, cursor } : query);
    expect(response.statusCode).toBe(200);
    seen.push(...response.body.members);
    cursor = response.body.cursor ?? undefined;
    pages++;
  } while (cursor);
  return { seen, pages };
}

describe('GET /api/organizations/{orgId}/members/financial', () => {
  it('shows each member’s lifetime spend, this month’s spend and share of the org’s spend', async () => {
    const { seen } = await walk(admin.userId, { limit: '100' });
    const row = (user: SeedMember) => seen.find((entry) => entry.userId === user.userId);

    expect(row(members[1] as SeedMember)).toEqual({
      userId: members[1]?.userId,
      email: 'Person-1@Example.com',
      role: 'member',
      lifetimeSpentMicros: 3_000_000,
      lifetimeSpentUsd: '3.00',
      monthSpentMicros: 1_000_000,
      monthSpentUsd: '1.00',
      shareOfOrgSpend: '30.00',
      shareOfOrgMonthSpend: '12.50',
    });
    expect(row(admin)).toMatchObject({ lifetimeSpentMicros: 4_000_000, shareOfOrgSpend: '40.00' });
    expect(row(owner)).toMatchObject({ lifetimeSpentMicros: 0, shareOfOrgSpend: '0.00' });
  });

  it('lists every member exactly once across pages, and members’ spend sums to the org total', async () => {
    const { seen, pages } = await walk(owner.userId, { limit: '100' });

    expect(pages).toBe(4);
    expect(new Set(seen.map((entry) => entry.userId)).size).toBe(memberCount + 2);
    const total = seen.reduce((sum, entry) => sum + entry.lifetimeSpentMicros, 0);
    expect(total).toBe((await getCreditBalance(orgId)).spentMicros);
    expect(total).toBe(10_000_000);
  });

  it('reports another month with month=YYYY-MM', async () => {
    const response = await financial(admin.userId, { month: '2025-12', email: 'person-1@' });

    expect(response.body.month).toBe('2025-12');
    expect(response.body.organization.monthSpentMicros).toBe(2_000_000);
    const person1 = response.body.members.find(
      (entry: { email: string }) => entry.email === 'Person-1@Example.com',
    );
    expect(person1).toMatchObject({ monthSpentMicros: 2_000_000, shareOfOrgMonthSpend: '100.00' });
  });

  it('filters by a case-insensitive part of the email, across small pages', async () => {
    const { seen } = await walk(admin.userId, { email: 'PARTNER.IO', limit: '7' });

    const expected = members.filter((_, n) => n % 7 === 0).map((m) => m.userId);
    expect(seen.map((entry) => entry.userId).sort()).toEqual([...expected].sort());
  });

  it('returns an empty page with a cursor when a filtered read finds nothing yet, and continues', async () => {
    const last = members[memberCount - 1] as SeedMember;
    const needle = last.email.toLowerCase();

    const first = await listMembersSpend(orgId, {
      month: thisMonth,
      limit: 10,
      emailFilter: needle,
      maxItemsRead: 50,
    });
    expect(first.members).toEqual([]);
    expect(first.lastKey).toBeDefined();

    const found: string[] = [];
    let startKey = first.lastKey;
    while (startKey) {
      const page = await listMembersSpend(orgId, {
        month: thisMonth,
        limit: 10,
        emailFilter: needle,
        maxItemsRead: 50,
        startKey,
      });
      found.push(...page.members.map((member) => member.userId));
      startKey = page.lastKey;
    }
    expect(found).toEqual([last.userId]);
  });

  it('is 403 for a plain member and 404 for a non-member', async () => {
    expect((await financial((members[3] as SeedMember).userId)).statusCode).toBe(403);
    expect((await financial(freshId('user'))).statusCode).toBe(404);
  });

  it('rejects a malformed month and a foreign cursor', async () => {
    const badMonth = await financial(admin.userId, { month: '2026-13' });
    const foreignCursor = Buffer.from(
      JSON.stringify({ pk: 'ORG#org_someoneelse', sk: 'MEMBER#x' }),
    ).toString('base64url');
    const badCursor = await financial(admin.userId, { cursor: foreignCursor });

    expect(badMonth.statusCode).toBe(422);
    expect(badCursor.statusCode).toBe(400);
  });
});
