import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const arn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:github-webhook-AbCdEf';

describe('loadSecret', () => {
  const secretsManager = mockClient(SecretsManagerClient);

  beforeEach(() => {
    vi.resetModules();
    process.env.GITHUB_WEBHOOK_SECRET_ARN = arn;
  });

  afterEach(() => {
    secretsManager.reset();
    delete process.env.GITHUB_WEBHOOK_SECRET_ARN;
  });

  it('reads a secret from Secrets Manager once per container when its ARN is configured', async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: arn })
      .resolves({ SecretString: 's3cr3t' });
    const { loadSecret } = await import('#platform/secrets');

    expect(await loadSecret('GITHUB_WEBHOOK_SECRET')).toBe('s3cr3t');
    expect(await loadSecret('GITHUB_WEBHOOK_SECRET')).toBe('s3cr3t');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('fails clearly when the secret has no value yet, and tries again next time', async () => {
    secretsManager.on(GetSecretValueCommand).resolvesOnce({}).resolves({ SecretString: 'now-set' });
    const { loadSecret } = await import('#platform/secrets');

    await expect(loadSecret('GITHUB_WEBHOOK_SECRET')).rejects.toThrow(/has no value yet/);
    expect(await loadSecret('GITHUB_WEBHOOK_SECRET')).toBe('now-set');
  });

  it('uses the plain environment variable when no ARN is configured (local stack, tests)', async () => {
    delete process.env.GITHUB_WEBHOOK_SECRET_ARN;
    const { loadSecret } = await import('#platform/secrets');

    expect(await loadSecret('GITHUB_WEBHOOK_SECRET')).toBe(process.env.GITHUB_WEBHOOK_SECRET);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });
});
