import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

/**
 * The cold-start baseline: the least a DynamoDB-backed Lambda function does. It creates the
 * document client as the service's clients are created and answers with one GetItem.
 */
const endpoint = process.env.DYNAMODB_ENDPOINT;
const client = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    region: process.env.AWS_REGION ?? 'us-east-1',
    ...(endpoint
      ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  }),
);

export async function handler(event: { key: { pk: string; sk: string } }) {
  const { Item } = await client.send(
    new GetCommand({ TableName: process.env.TABLE_NAME, Key: event.key }),
  );
  return { statusCode: Item ? 200 : 404, body: JSON.stringify(Item ?? {}) };
}
