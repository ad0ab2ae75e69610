import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsRegion, optionalEnv } from '#platform/config';

/**
 * SDK clients live at module scope so warm invocations reuse their connections. Endpoints are
 * overridable for the local stack (DynamoDB Local, the EventBridge stand-in); in AWS they are
 * unset and the SDK's defaults apply.
 */
const dynamoEndpoint = optionalEnv('DYNAMODB_ENDPOINT', '');
const eventsEndpoint = optionalEnv('EVENTS_ENDPOINT', '');

const localCredentials =
  dynamoEndpoint || eventsEndpoint
    ? {
        accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local',
        secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
      }
    : undefined;

export const dynamoClient = new DynamoDBClient({
  region: awsRegion,
  ...(dynamoEndpoint ? { endpoint: dynamoEndpoint, credentials: localCredentials } : {}),
});

export const documentClient = DynamoDBDocumentClient.from(dynamoClient, {
  marshallOptions: { removeUndefinedValues: true },
});

export const eventBridgeClient = new EventBridgeClient({
  region: awsRegion,
  ...(eventsEndpoint ? { endpoint: eventsEndpoint, credentials: localCredentials } : {}),
});
