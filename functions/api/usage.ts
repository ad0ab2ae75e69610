import * as z from 'zod/mini';
import { toCreditBalance } from '#data/credits';
import { decodeCursor, encodeCursor } from '#data/cursor';
import { balanceSk, memberSkPrefix, orgPk } from '#data/keys';
import { getMembershipWith } from '#data/memberships';
import { listMembersSpend } from '#data/usage';
import { formatMicros, formatShare } from '#domain/money';
import { authorize } from '#domain/permissions';
import { httpRoute, json } from '#platform/http';
import { orgParams, pageQuery } from '#platform/schemas';

/**
 * GET /api/organizations/{orgId}/members/financial (admins and owners): each member's lifetime
 * spend, spend in one calendar month (UTC; this month unless `month=YYYY-MM`) and share of the
 * organization's spend. The caller's membership and the BALANCE item (the totals the shares
 * divide by) are read alongside the first page of members; members are read page by page.
 */
const financialQuery = z.extend(pageQuery, {
  month: z.optional(z.string().check(z.regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'month must be YYYY-MM'))),
  email: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(320))),
});

export const getMembersFinancial = /* @__PURE__ */ httpRoute(
  { params: orgParams, query: financialQuery },
  async ({ params, query, caller }) => {
    const month = query.month ?? new Date().toISOString().slice(0, 7);
    const startKey = decodeCursor(query.cursor, {
      pk: orgPk(params.orgId),
      skPrefix: memberSkPrefix,
    });
    // One round trip: members are read alongside the membership, shown only after authorize.
    const [{ membership, items }, page] = await Promise.all([
      getMembershipWith(params.orgId, caller.userId, [balanceSk]),
      listMembersSpend(params.orgId, {
        month,
        limit: query.limit,
        emailFilter: query.email,
        startKey,
      }),
    ]);
    authorize(membership, 'financial.read');

    const balance = toCreditBalance(items.get(balanceSk));
    const orgMonthSpent = balance.spentByMonth[month] ?? 0;

    return json(200, {
      month,
      organization: {
        spentMicros: balance.spentMicros,
        spentUsd: formatMicros(balance.spentMicros),
        monthSpentMicros: orgMonthSpent,
        monthSpentUsd: formatMicros(orgMonthSpent),
      },
      members: page.members.map((member) => ({
        userId: member.userId,
        email: member.email,
        role: member.role,
        lifetimeSpentMicros: member.lifetimeSpentMicros,
        lifetimeSpentUsd: formatMicros(member.lifetimeSpentMicros),
        monthSpentMicros: member.monthSpentMicros,
        monthSpentUsd: formatMicros(member.monthSpentMicros),
        /** Percent of the organization's lifetime spend, two decimals. */
        shareOfOrgSpend: formatShare(member.lifetimeSpentMicros, balance.spentMicros),
        shareOfOrgMonthSpend: formatShare(member.monthSpentMicros, orgMonthSpent),
      })),
      cursor: encodeCursor(page.lastKey) ?? null,
    });
  },
);
