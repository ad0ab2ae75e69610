import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { loadSecret } from '#platform/secrets';

/**
 * Encrypts stored secrets (LLM API keys, Git tokens) with AES-256-GCM. The key comes from
 * configuration (TOKEN_ENCRYPTION_KEY, 32 bytes base64). Ciphertexts are `v1.<iv>.<tag>.<data>`
 * in base64url, and `context` (e.g. the owning user or org id) is bound as additional data so
 * a ciphertext copied to another item does not decrypt.
 */
let encryptionKey: Promise<Buffer> | undefined;

/**
 * Loaded on first use, not at module load: a file serves several routes and only some of them
 * (and so only some functions) are granted the key.
 */
function key(): Promise<Buffer> {
  encryptionKey ??= loadSecret('TOKEN_ENCRYPTION_KEY').then((value) => {
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length !== 32) {
      throw new Error('TOKEN_ENCRYPTION_KEY must be 32 bytes, base64-encoded');
    }
    return bytes;
  });
  encryptionKey.catch(() => {
    encryptionKey = undefined;
  });
  return encryptionKey;
}

export async function encryptSecret(plaintext: string, context: string): Promise<string> {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', await key(), iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return ['v1', iv, tag, data]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

export async function decryptSecret(ciphertext: string, context: string): Promise<string> {
  const [version, iv, tag, data] = ciphertext.split('.');
  if (version !== 'v1' || !iv || !tag || data === undefined) {
    throw new Error('Unrecognised ciphertext format');
  }
  const decipher = createDecipheriv('aes-256-gcm', await key(), Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([
    decipher.update(Buffer.from(data, 'base64url')),
    decipher.final(),
  ]).toString('utf8');
}

/** What responses may show of a secret: at most its last four characters. */
export function secretHint(plaintext: string): string {
  return plaintext.length <= 8 ? '' : plaintext.slice(-4);
}
