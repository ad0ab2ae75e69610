import { randomBytes } from 'node:crypto';
import {
  DecryptCommand,
  EncryptCommand,
  InvalidCiphertextException,
  KMSClient,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

type Encryption = typeof import('#platform/encryption');

const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const kmsMock = mockClient(KMSClient);

/**
 * A stand-in for KMS that behaves like it where it matters here: a blob decrypts only under the
 * key and the exact encryption context it was made with.
 */
function fakeKms(): void {
  const blobs = new Map<string, { plaintext: Uint8Array; keyId: string; context: string }>();
  kmsMock.on(EncryptCommand).callsFake((input: EncryptCommand['input']) => {
    const blob = randomBytes(32);
    blobs.set(blob.toString('hex'), {
      plaintext: input.Plaintext ?? new Uint8Array(),
      keyId: input.KeyId ?? '',
      context: JSON.stringify(input.EncryptionContext ?? {}),
    });
    return { CiphertextBlob: blob, KeyId: input.KeyId };
  });
  kmsMock.on(DecryptCommand).callsFake((input: DecryptCommand['input']) => {
    const stored = blobs.get(Buffer.from(input.CiphertextBlob ?? []).toString('hex'));
    if (
      !stored ||
      stored.keyId !== input.KeyId ||
      stored.context !== JSON.stringify(input.EncryptionContext ?? {})
    ) {
      throw new InvalidCiphertextException({ message: 'invalid ciphertext', $metadata: {} });
    }
    return { Plaintext: stored.plaintext, KeyId: stored.keyId };
  });
}

async function loadEncryption(kmsKey: string | undefined): Promise<Encryption> {
  vi.resetModules();
  vi.stubEnv('TOKEN_KMS_KEY_ARN', kmsKey ?? '');
  return import('#platform/encryption');
}

beforeEach(() => {
  kmsMock.reset();
  fakeKms();
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('stored token encryption with KMS (TOKEN_KMS_KEY_ARN set)', () => {
  it('round-trips a token through KMS Encrypt and Decrypt under the configured key', async () => {
    const { encryptSecret, decryptSecret } = await loadEncryption(keyArn);

    const ciphertext = await encryptSecret('ghp_exampletoken1234', 'USER#u1/GIT#github');

    expect(ciphertext).toMatch(/^kms1\.[A-Za-z0-9_-]+$/);
    expect(ciphertext).not.toContain('exampletoken');
    expect(await decryptSecret(ciphertext, 'USER#u1/GIT#github')).toBe('ghp_exampletoken1234');
    const [encrypt] = kmsMock.commandCalls(EncryptCommand);
    expect(encrypt?.args[0].input.KeyId).toBe(keyArn);
    expect(encrypt?.args[0].input.EncryptionContext).toEqual({
      purpose: 'stored-token',
      owner: 'USER#u1/GIT#github',
    });
    expect(kmsMock.commandCalls(DecryptCommand)[0]?.args[0].input.KeyId).toBe(keyArn);
  });

  it('refuses to decrypt a token copied to another owner', async () => {
    const { encryptSecret, decryptSecret } = await loadEncryption(keyArn);
    const ciphertext = await encryptSecret('sk-llm-key-abcdef', 'ORG#org_aaaaaa/LLM');

    await expect(decryptSecret(ciphertext, 'ORG#org_bbbbbb/LLM')).rejects.toThrow(
      InvalidCiphertextException,
    );
  });

  it('still decrypts tokens stored with the local AES-GCM key before KMS was configured', async () => {
    const local = await loadEncryption(undefined);
    const legacy = await local.encryptSecret('glpat-legacy-token', 'USER#u2/GIT#gitlab');
    expect(legacy.startsWith('v1.')).toBe(true);

    const { decryptSecret } = await loadEncryption(keyArn);

    expect(await decryptSecret(legacy, 'USER#u2/GIT#gitlab')).toBe('glpat-legacy-token');
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(0);
  });

  it('rejects a value above the 4 KB KMS Encrypt limit without calling KMS', async () => {
    const { encryptSecret } = await loadEncryption(keyArn);

    await expect(encryptSecret('x'.repeat(4097), 'USER#u1/GIT#github')).rejects.toThrow(
      /at most 4096 bytes/,
    );
    expect(kmsMock.commandCalls(EncryptCommand)).toHaveLength(0);
  });
});

describe('stored token encryption without KMS (local)', () => {
  it('round-trips with the AES-GCM key and never calls KMS', async () => {
    const { encryptSecret, decryptSecret } = await loadEncryption(undefined);

    const ciphertext = await encryptSecret('ghp_localtoken5678', 'USER#u3/GIT#github');

    expect(ciphertext).toMatch(/^v1\./);
    expect(await decryptSecret(ciphertext, 'USER#u3/GIT#github')).toBe('ghp_localtoken5678');
    await expect(decryptSecret(ciphertext, 'USER#u4/GIT#github')).rejects.toThrow();
    expect(kmsMock.calls()).toHaveLength(0);
  });

  it('rejects an unknown ciphertext format', async () => {
    const { decryptSecret } = await loadEncryption(undefined);

    await expect(decryptSecret('v9.abc', 'USER#u3/GIT#github')).rejects.toThrow(
      'Unrecognised ciphertext format',
    );
  });
});
