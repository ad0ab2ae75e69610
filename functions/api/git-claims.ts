import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import { decodeCursor, encodeCursor } from '#data/cursor';
import {
  type GitAccount,
  getGitAccount,
  gitTokenContext,
  listGitAccounts,
} from '#data/git-accounts';
import {
  createClaim,
  deleteClaim,
  getClaimsByGitOrgIds,
  listOrganizationClaims,
  toGitClaim,
} from '#data/git-claims';
import { orgClaimSk, orgClaimSkPrefix, orgPk } from '#data/keys';
import { getMembershipWith } from '#data/memberships';
import { claimRefusal, claimStanding, type GitClaim } from '#domain/git-claims';
import { authorize } from '#domain/permissions';
import { decryptSecret } from '#platform/encryption';
import { BadRequestError, ForbiddenError, NotFoundError } from '#platform/errors';
import { event, publishEvents } from '#platform/events';
import {
  fetchGitMembership,
  GitTokenRejectedError,
  listAdministeredOrganizations,
  providerNames,
} from '#platform/git-providers';
import { httpRoute, json } from '#platform/http';
import { recordGitClaimMade } from '#platform/metrics';
import { orgIdParam, orgParams, pageQuery } from '#platform/schemas';

/**
 * Git organization claims (DESIGN §6). Claiming is checked live with the caller's linked token
 * and keyed by the provider's numeric id. `gitOrganization` in the claim body is the GitHub
 * organization login, or the GitLab group's full path (`group/sub`) or numeric id.
 */
const provider = z.enum(['github', 'gitlab']);

export const listGitOrganizations = /* @__PURE__ */ httpRoute(
  { params: orgParams, query: pageQuery },
  async ({ caller, params, query }) => {
    // Both reads at once; the providers are asked only once the caller is authorised.
    const [{ membership }, accounts] = await Promise.all([
      getMembershipWith(params.orgId, caller.userId, []),
      listGitAccounts(caller.userId),
    ]);
    authorize(membership, 'claims.manage');

    const perAccount = await Promise.all(accounts.map(administeredOrganizationsOf));
    const found = perAccount.flatMap((result) => result.organizations);
    const claims = await getClaimsByGitOrgIds(found);

    const all = found
      .map((org) => {
        const claim = claims.get(`${org.provider}#${org.gitOrgId}`);
        const claimStatus = claimStanding(claim, params.orgId);
        return {
          ...org,
          claimStatus,
          ...(claimStatus === 'claimed_here' ? { claimId: claim?.claimId } : {}),
        };
      })
      .sort((a, b) => `${a.provider}/${a.login}`.localeCompare(`${b.provider}/${b.login}`));

    // The list comes from the providers, not the table: the cursor is an offset into it.
    const offset = Number(decodeCursor(query.cursor, { pk: 'offset' })?.sk ?? 0);
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new BadRequestError('Invalid cursor', undefined, 'invalid_cursor');
    }
    const page = all.slice(offset, offset + query.limit);
    const next = offset + query.limit;
    return json(200, {
      gitOrganizations: page,
      accounts: perAccount.map((result) => result.account),
      cursor: next < all.length ? encodeCursor({ pk: 'offset', sk: String(next) }) : null,
    });
  },
);

export const listGitClaims = /* @__PURE__ */ httpRoute(
  { params: orgParams, query: pageQuery },
  async ({ caller, params, query }) => {
    // Both reads at once; the claims are discarded unless the caller is a member.
    const [{ membership }, { claims, lastKey }] = await Promise.all([
      getMembershipWith(params.orgId, caller.userId, []),
      listOrganizationClaims(params.orgId, {
        limit: query.limit,
        startKey: decodeCursor(query.cursor, {
          pk: orgPk(params.orgId),
          skPrefix: orgClaimSkPrefix,
        }),
      }),
    ]);
    authorize(membership, 'org.view');
    return json(200, { claims: claims.map(presentClaim), cursor: encodeCursor(lastKey) ?? null });
  },
);

const claimBody = z.strictObject({
  provider,
  gitOrganization: z.string().check(z.trim(), z.minLength(1), z.maxLength(255)),
});
const claimParams = z.object({
  orgId: orgIdParam,
  claimId: z.string().check(z.regex(/^clm_[a-f0-9]{32}$/)),
});

export const claimGitOrganization = /* @__PURE__ */ httpRoute(
  { params: orgParams, body: claimBody },
  async ({ caller, params, body }) => {
    const [{ membership }, account] = await Promise.all([
      getMembershipWith(params.orgId, caller.userId, []),
      getGitAccount(caller.userId, body.provider),
    ]);
    authorize(membership, 'claims.manage');
    if (!account) {
      throw new ForbiddenError(
        `Link your ${providerNames[body.provider]} account first ` +
          `(PUT /api/users/me/git-accounts/${body.provider})`,
        'git_account_not_linked',
      );
    }
    const check = await fetchGitMembership(
      body.provider,
      await readLinkedToken(account),
      account.gitUserId,
      body.gitOrganization,
    );
    const refusal = claimRefusal(body.provider, check);
    if (refusal || check.kind !== 'found') {
      throw new ForbiddenError(refusal, 'not_git_organization_admin');
    }

    const claim: GitClaim = {
      claimId: `clm_${randomUUID().replaceAll('-', '')}`,
      orgId: params.orgId,
      provider: body.provider,
      gitOrgId: check.organization.gitOrgId,
      login: check.organization.login,
      status: 'active',
      claimedBy: caller.userId,
      claimedAt: new Date().toISOString(),
    };
    await createClaim(claim);
    recordGitClaimMade(claim.provider);
    await publishEvents([
      event('GitOrganizationClaimed', claimEventDetail('claimed', claim, caller.userId)),
    ]);
    return json(201, presentClaim(claim));
  },
);

export const unclaimGitOrganization = /* @__PURE__ */ httpRoute(
  { params: claimParams },
  async ({ caller, params }) => {
    const { membership, items } = await getMembershipWith(params.orgId, caller.userId, [
      orgClaimSk(params.claimId),
    ]);
    authorize(membership, 'claims.manage');
    const item = items.get(orgClaimSk(params.claimId));
    if (!item) throw new NotFoundError('Claim not found', 'claim_not_found');

    const claim = toGitClaim(item);
    await deleteClaim(claim, caller.userId);
    await publishEvents([
      event('GitOrganizationUnclaimed', claimEventDetail('unclaimed', claim, caller.userId)),
    ]);
    return json(204);
  },
);

async function administeredOrganizationsOf(account: GitAccount) {
  const summary = { provider: account.provider, login: account.login };
  try {
    const orgs = await listAdministeredOrganizations(
      account.provider,
      await readLinkedToken(account),
    );
    return {
      account: { ...summary, status: 'ok' as const },
      organizations: orgs.map((org) => ({ provider: account.provider, ...org })),
    };
  } catch (error) {
    // One account's rejected token should not hide the organizations of the others.
    if (!(error instanceof GitTokenRejectedError)) throw error;
    return {
      account: { ...summary, status: 'token_rejected' as const, message: error.message },
      organizations: [],
    };
  }
}

async function readLinkedToken(account: GitAccount): Promise<string> {
  try {
    return await decryptSecret(
      account.encryptedToken,
      gitTokenContext(account.userId, account.provider),
    );
  } catch {
    // Only a changed encryption key gets here; the user can recover by linking again.
    throw new GitTokenRejectedError(account.provider);
  }
}

function claimEventDetail(kind: 'claimed' | 'unclaimed', claim: GitClaim, userId: string) {
  return {
    eventId: `${kind}-${claim.claimId}`,
    orgId: claim.orgId,
    claimId: claim.claimId,
    provider: claim.provider,
    gitOrgId: claim.gitOrgId,
    login: claim.login,
    userId,
  };
}

function presentClaim(claim: GitClaim) {
  return {
    claimId: claim.claimId,
    provider: claim.provider,
    gitOrgId: claim.gitOrgId,
    login: claim.login,
    status: claim.status,
    ...(claim.suspendedReason ? { suspendedReason: claim.suspendedReason } : {}),
    claimedBy: claim.claimedBy,
    claimedAt: claim.claimedAt,
  };
}
