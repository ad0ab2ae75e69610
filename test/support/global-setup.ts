import { existsSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TestProject } from 'vitest/node';
import { createServiceTable } from '#local/create-table';
import { startDynamoDbLocal } from '#local/dynamodb-local';
import { stripeFixturesPath } from '#local/payloads/stripe';

const gitlabFixturesDir =
  process.env.GITLAB_FIXTURES_DIR ?? path.join(path.dirname(stripeFixturesPath), '..', 'gitlab');

/** `../shared/fixtures` is there for us and CI only: without it, say once what went unchecked. */
function reportMissingFixtures() {
  const missing = [
    existsSync(stripeFixturesPath)
      ? undefined
      : 'Stripe builders vs. Stripe’s published objects and crediting a published checkout.session',
    existsSync(gitlabFixturesDir) ? undefined : 'GitLab builders vs. GitLab’s documented bodies',
  ].filter(Boolean);
  if (missing.length > 0) {
    console.log(`../shared/fixtures absent, checks not made: ${missing.join('; ')}`);
  }
}

/**
 * Starts one in-memory DynamoDB Local for the whole test run and creates the service table.
 * Test files share it and isolate themselves by using fresh organization/user ids.
 */
export default async function setup(project: TestProject) {
  reportMissingFixtures();

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
