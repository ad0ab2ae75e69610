import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { awsRegion } from '#platform/config';
import { loadSecret } from '#platform/secrets';

/**
 * Encrypts stored secrets (LLM API keys, Git tokens). `context` (the owning item, e.g.
 * `USER#u1/GIT#github`) is bound to every ciphertext, so one copied to another item does not
 * decrypt. Two formats, told apart by their prefix, and both always decrypt:
 *
 * - `kms1.<blob>` in AWS (TOKEN_KMS_KEY_ARN set): KMS Encrypt with `context` as encryption
 *   context. Tokens are far below KMS's 4 KB Encrypt limit, so a data key (envelope encryption)
 *   would cost the same one KMS call per value and add a local cipher; the key material never
 *   leaves KMS, every use is in CloudTrail, and rotation keeps old blobs readable.
 * - `v1.<iv>.<tag>.<data>` locally: AES-256-GCM with `context` as additional data, the key from
 *   configuration (TOKEN_ENCRYPTION_KEY, 32 bytes base64).
 */
const kmsKeyArn = process.env.TOKEN_KMS_KEY_ARN || undefined;

/** KMS Encrypt accepts at most 4096 bytes of plaintext. */
const kmsPlaintextLimit = 4096;

let kmsClient: KMSClient | undefined;
let localKey: Promise<Buffer> | undefined;

export async function encryptSecret(plaintext: string, context: string): Promise<string> {
  return kmsKeyArn
    ? encryptWithKms(kmsKeyArn, plaintext, context)
    : encryptLocally(plaintext, context);
}

export async function decryptSecret(ciphertext: string, context: string): Promise<string> {
  const version = ciphertext.slice(0, ciphertext.indexOf('.'));
  if (version === 'kms1') return decryptWithKms(ciphertext, context);
  if (version === 'v1') return decryptLocally(ciphertext, context);
  throw new Error('Unrecognised ciphertext format');
}

/** What responses may show of a secret: at most its last four characters. */
export function secretHint(plaintext: string): string {
  return plaintext.length <= 8 ? '' : plaintext.slice(-4);
}

function kms(): KMSClient {
  kmsClient ??= new KMSClient({ region: awsRegion });
  return kmsClient;
}

function encryptionContext(context: string): Record<string, string> {
  return { purpose: 'stored-token', owner: context };
}

async function encryptWithKms(keyArn: string, plaintext: string, context: string) {
  const bytes = Buffer.from(plaintext, 'utf8');
  if (bytes.length > kmsPlaintextLimit) {
    throw new Error(`A stored secret may be at most ${kmsPlaintextLimit} bytes`);
  }
  const { CiphertextBlob } = await kms().send(
    new EncryptCommand({
      KeyId: keyArn,
      Plaintext: bytes,
      EncryptionContext: encryptionContext(context),
    }),
  );
  if (!CiphertextBlob) throw new Error('KMS returned no ciphertext');
  return `kms1.${Buffer.from(CiphertextBlob).toString('base64url')}`;
}

async function decryptWithKms(ciphertext: string, context: string): Promise<string> {
  const blob = ciphertext.slice('kms1.'.length);
  if (blob === '') throw new Error('Unrecognised ciphertext format');
  const { Plaintext } = await kms().send(
    new DecryptCommand({
      // Pinning the key refuses blobs made under any other key.
      KeyId: kmsKeyArn,
      CiphertextBlob: Buffer.from(blob, 'base64url'),
      EncryptionContext: encryptionContext(context),
    }),
  );
  if (!Plaintext) throw new Error('KMS returned no plaintext');
  return Buffer.from(Plaintext).toString('utf8');
}

/**
 * Loaded on first use, not at module load: a file serves several routes and only some of them
 * (and so only some functions) encrypt.
 */
function key(): Promise<Buffer> {
  localKey ??= loadSecret('TOKEN_ENCRYPTION_KEY').then((value) => {
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length !== 32) {
      throw new Error('TOKEN_ENCRYPTION_KEY must be 32 bytes, base64-encoded');
    }
    return bytes;
  });
  localKey.catch(() => {
    localKey = undefined;
  });
  return localKey;
}

async function encryptLocally(plaintext: string, context: string): Promise<string> {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', await key(), iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return ['v1', ...[iv, tag, data].map((part) => part.toString('base64url'))].join('.');
}

async function decryptLocally(ciphertext: string, context: string): Promise<string> {
  const [, iv, tag, data] = ciphertext.split('.');
  if (!iv || !tag || data === undefined) throw new Error('Unrecognised ciphertext format');
  const decipher = createDecipheriv('aes-256-gcm', await key(), Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([
    decipher.update(Buffer.from(data, 'base64url')),
    decipher.final(),
  ]).toString('utf8');
}
