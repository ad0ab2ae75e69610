import { inject } from 'vitest';

/**
 * Runs before every test file (vitest setupFiles), before any module under test is imported:
 * points the handlers at the shared DynamoDB Local and gives them local configuration.
 */
process.env.DYNAMODB_ENDPOINT = inject('dynamoEndpoint');
process.env.TABLE_NAME = 'organizations-test';
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'local';
process.env.AWS_SECRET_ACCESS_KEY = 'local';
process.env.EVENT_BUS_NAME = 'organizations-test';
process.env.TOKEN_ENCRYPTION_KEY ??= Buffer.alloc(32, 7).toString('base64');
process.env.STRIPE_SECRET_KEY ??= 'sk_test_local';
process.env.STRIPE_WEBHOOK_SECRET ??= 'whsec_test_local';
process.env.GITHUB_WEBHOOK_SECRET ??= 'github-webhook-secret-test';
process.env.GITLAB_WEBHOOK_TOKEN ??= 'gitlab-webhook-token-test';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.LOG_LEVEL ??= 'SILENT';
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
