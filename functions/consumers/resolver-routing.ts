import type { EventBridgeEvent } from 'aws-lambda';
import { resolveRepository } from '#api/resolve';
import { resolverRequestedDetail } from '#catalogue/events';
import { event, publishEvents } from '#platform/events';
import { logger } from '#platform/logger';
import { eventConsumer } from '#platform/metrics';

/**
 * ResolverRequested -> ResolverRouted (the claiming organization and the requester's platform
 * user) or ResolverRejected (with the reason). The published ids derive from the request's id,
 * so a redelivered request publishes the same events and downstream de-duplicates them.
 */
export const handler = eventConsumer(routeResolverRequest);

async function routeResolverRequest(incoming: EventBridgeEvent<string, unknown>): Promise<void> {
  const request = resolverRequestedDetail.parse(incoming.detail);
  logger.appendKeys({ eventId: request.eventId });

  const answer = await resolveRepository({
    provider: request.provider,
    repository: request.repository,
    requesterLogin: request.requesterLogin,
    requesterId: request.requesterId,
  });
  const about = {
    requestEventId: request.eventId,
    provider: request.provider,
    repository: request.repository,
    requesterLogin: request.requesterLogin,
  };

  if (answer.status === 'routed') {
    logger.info('Resolver request routed', { orgId: answer.orgId });
    await publishEvents([
      event('ResolverRouted', {
        eventId: `routed-${request.eventId}`,
        ...about,
        orgId: answer.orgId,
        userId: answer.userId,
      }),
    ]);
    return;
  }
  logger.info('Resolver request rejected', { reason: answer.reason, orgId: answer.orgId });
  await publishEvents([
    event('ResolverRejected', {
      eventId: `rejected-${request.eventId}`,
      ...about,
      reason: answer.reason,
      orgId: answer.orgId,
    }),
  ]);
}
