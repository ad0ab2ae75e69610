import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { requireEnv } from '#platform/config';

/**
 * Encrypts stored secrets (LLM API keys, Git tokens) with AES-256-GCM. The key comes from
 * configuration (TOKEN_ENCRYPTION_KEY, 32 bytes base64). Ciphertexts are `v1.<iv>.<tag>.<data>`
 * in base64url, and `context` (e.g. the owning user or org id) is bound as additional data so
 * a ciphertext copied to another item does not decrypt.
 */
const key = Buffer.from(requireEnv('TOKEN_ENCRYPTION_KEY'), 'base64');
if (key.length !== 32) throw new Error('TOKEN_ENCRYPTION_KEY must be 32 bytes, base64-encoded');

export function encryptSecret(plaintext: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return ['v1', iv, tag, data]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

export function decryptSecret(ciphertext: string, context: string): string {
  const [version, iv, tag, data] = ciphertext.split('.');
  if (version !== 'v1' || !iv || !tag || data === undefined) {
    throw new Error('Unrecognised ciphertext format');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
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
