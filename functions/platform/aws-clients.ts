import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsRegion, optionalEnv } from '#platform/config';

/**
 * The DynamoDB clients, at module scope so warm invocations reuse their connections. The
 * endpoint is overridable for the local stack (DynamoDB Local); in AWS it is unset and the SDK's
 * default applies. The EventBridge client lives in its own module (event-bridge.ts) so only
 * functions that publish load it.
 */
const dynamoEndpoint = optionalEnv('DYNAMODB_ENDPOINT', '');

/** Dummy credentials for local endpoints (DynamoDB Local, the event bus stand-in). */
export function localCredentials() {
  return {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
  };
}

export const dynamoClient = new DynamoDBClient({
  region: awsRegion,
  ...(dynamoEndpoint ? { endpoint: dynamoEndpoint, credentials: localCredentials() } : {}),
});

export const documentClient = DynamoDBDocumentClient.from(dynamoClient, {
  marshallOptions: { removeUndefinedValues: true },
});
