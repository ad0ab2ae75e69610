import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TestProject } from 'vitest/node';
import { createServiceTable } from '#local/create-table';
import { startDynamoDbLocal } from '#local/dynamodb-local';

/**
 * Starts one in-memory DynamoDB Local for the whole test run and creates the service table.
 * Test files share it and isolate themselves by using fresh organization/user ids.
 */
export default async function setup(project: TestProject) {
  const dynamo = await startDynamoDbLocal();
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await createServiceTable(client, 'organizations-test');
  client.destroy();
  project.provide('dynamoEndpoint', dynamo.endpoint);
  return async () => {
    await dynamo.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}
