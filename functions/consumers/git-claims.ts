import type { EventBridgeEvent } from 'aws-lambda';
import {
  gitMembershipChangedDetail,
  gitOrganizationGoneDetail,
  gitOrganizationRenamedDetail,
} from '#catalogue/events';
import {
  findGitlabClaimsAtOrBelow,
  getClaimByGitOrgId,
  renameClaim,
  suspendClaim,
} from '#data/git-claims';
import { logger } from '#platform/logger';
import { eventConsumer } from '#platform/metrics';

/**
 * Keeps claims current with what happens on GitHub/GitLab. Every step is idempotent: a
 * redelivered event finds the work already done.
 * - Renamed: the new login (or GitLab path, with its subgroups' paths) routes, the old no longer.
 * - Deleted / app uninstalled: the claim is suspended (routing answers `claim_suspended`) until
 *   an owner unclaims it.
 * - Membership changed: accepted; claims are checked live when made, so nothing is stored.
 */
export const handler = eventConsumer(maintainClaims);

async function maintainClaims(incoming: EventBridgeEvent<string, unknown>): Promise<void> {
  switch (incoming['detail-type']) {
    case 'GitOrganizationRenamed':
      return applyRename(gitOrganizationRenamedDetail.parse(incoming.detail));
    case 'GitOrganizationDeleted':
      return applySuspension(gitOrganizationGoneDetail.parse(incoming.detail), 'git_org_deleted');
    case 'GitAppUninstalled':
      return applySuspension(gitOrganizationGoneDetail.parse(incoming.detail), 'app_uninstalled');
    case 'GitMembershipChanged': {
      const detail = gitMembershipChangedDetail.parse(incoming.detail);
      logger.info('Git membership changed', {
        eventId: detail.eventId,
        provider: detail.provider,
        gitOrgId: detail.gitOrgId,
        action: detail.action,
      });
      return;
    }
    default:
      logger.warn('Ignoring an event this consumer does not handle', {
        detailType: incoming['detail-type'],
      });
  }
}

async function applyRename(detail: {
  eventId: string;
  provider: 'github' | 'gitlab';
  gitOrgId: string;
  oldLogin: string;
  newLogin: string;
}): Promise<void> {
  const claim = await getClaimByGitOrgId(detail.provider, detail.gitOrgId);
  if (claim && (await renameClaim(claim, detail.newLogin))) {
    logger.info('Claim renamed', { eventId: detail.eventId, orgId: claim.orgId });
  }
  if (detail.provider !== 'gitlab') return;

  // A GitLab group's subgroups move with it: `old/sub` becomes `new/sub`.
  const oldPrefix = `${detail.oldLogin.toLowerCase()}/`;
  for (const below of await findGitlabClaimsAtOrBelow(detail.oldLogin)) {
    if (!below.login.toLowerCase().startsWith(oldPrefix)) continue;
    const newPath = `${detail.newLogin}/${below.login.slice(oldPrefix.length)}`;
    await renameClaim(below, newPath);
    logger.info('Subgroup claim renamed', { eventId: detail.eventId, orgId: below.orgId });
  }
}

async function applySuspension(
  detail: { eventId: string; provider: 'github' | 'gitlab'; gitOrgId: string; login?: string },
  reason: string,
): Promise<void> {
  const claim = await getClaimByGitOrgId(detail.provider, detail.gitOrgId);
  const affected = claim ? [claim] : [];
  // Destroying a GitLab group destroys its subgroups too, claimed or not the group itself.
  const path = claim?.login ?? detail.login;
  if (detail.provider === 'gitlab' && path) {
    affected.push(
      ...(await findGitlabClaimsAtOrBelow(path)).filter((c) => c.claimId !== claim?.claimId),
    );
  }
  for (const target of affected) {
    if (target.status === 'suspended') continue;
    await suspendClaim(target, reason);
    logger.info('Claim suspended', { eventId: detail.eventId, orgId: target.orgId, reason });
  }
}
