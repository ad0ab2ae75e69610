import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsRegion, ConfigurationError, requireEnv } from '#platform/config';

/**
 * Secrets (API keys, webhook secrets, the token encryption key). In AWS the stack passes
 * `<NAME>_ARN` and the value is read from Secrets Manager once per container, during the cold
 * start (modules await it at load). Locally and in tests the plain `<NAME>` variable is used.
 * Values are never logged.
 */
export type SecretName =
  | 'STRIPE_SECRET_KEY'
  | 'STRIPE_WEBHOOK_SECRET'
  | 'GITHUB_WEBHOOK_SECRET'
  | 'GITLAB_WEBHOOK_TOKEN'
  | 'TOKEN_ENCRYPTION_KEY';

const loaded = new Map<SecretName, Promise<string>>();
let client: SecretsManagerClient | undefined;

export function loadSecret(name: SecretName): Promise<string> {
  let value = loaded.get(name);
  if (!value) {
    value = read(name);
    loaded.set(name, value);
    // A failed read is not cached, so the next invocation tries again.
    value.catch(() => loaded.delete(name));
  }
  return value;
}

async function read(name: SecretName): Promise<string> {
  const arn = process.env[`${name}_ARN`];
  if (!arn) return requireEnv(name);

  client ??= new SecretsManagerClient({ region: awsRegion });
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  if (!SecretString) {
    throw new ConfigurationError(`Secret ${name} has no value yet; put one in Secrets Manager`);
  }
  return SecretString;
}
