import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { localCredentials } from '#platform/aws-clients';
import { awsRegion, optionalEnv } from '#platform/config';

/**
 * The EventBridge client, for functions that publish. The endpoint is overridable for the local
 * stack's event bus stand-in; in AWS it is unset and the SDK's default applies.
 */
const eventsEndpoint = optionalEnv('EVENTS_ENDPOINT', '');

export const eventBridgeClient = new EventBridgeClient({
  region: awsRegion,
  ...(eventsEndpoint ? { endpoint: eventsEndpoint, credentials: localCredentials() } : {}),
});
