import { generateKeyPairSync } from 'node:crypto';
import { type CryptoKey, importJWK, type JWK, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { readOrCreateStateFile } from '#local/config';

/**
 * The local token issuer, standing in for the identity provider that the HTTP API's JWT
 * authorizer trusts in AWS. One ES256 key pair is generated on first use and kept in the
 * git-ignored `.local/` folder, so `npm run token` and the running server agree.
 */
export const localIssuer = process.env.LOCAL_JWT_ISSUER || 'https://issuer.organizations.local';
export const localAudience = process.env.LOCAL_JWT_AUDIENCE || 'organizations-api';
const algorithm = 'ES256';
const keyId = 'local-1';
const tokenLifetime = '12h';

interface SigningKeys {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

let keys: Promise<SigningKeys> | undefined;

function signingKeys(): Promise<SigningKeys> {
  keys ??= loadKeys();
  return keys;
}

async function loadKeys(): Promise<SigningKeys> {
  const stored = readOrCreateStateFile('jwt-signing-key.json', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return JSON.stringify({ ...privateKey.export({ format: 'jwk' }), alg: algorithm, kid: keyId });
  });
  const privateJwk = JSON.parse(stored) as JWK;
  const { d: _secret, ...publicJwk } = privateJwk;
  return {
    privateKey: (await importJWK(privateJwk, algorithm)) as CryptoKey,
    publicKey: (await importJWK(publicJwk, algorithm)) as CryptoKey,
  };
}

export interface MintOptions {
  /** Seconds from now, or a jose time span such as '12h'; negative numbers mint expired tokens. */
  expiresIn?: number | string;
  issuer?: string;
  audience?: string;
}

/**
 * A token as the identity provider would issue it: iss, aud, sub, email, email_verified, iat,
 * exp. The local issuer vouches for the email it is given, as an IdP does after verifying it.
 */
export async function mintToken(
  userId: string,
  email: string,
  options: MintOptions = {},
): Promise<string> {
  const { privateKey } = await signingKeys();
  const now = Math.floor(Date.now() / 1000);
  const expiresIn = options.expiresIn ?? tokenLifetime;
  return new SignJWT({ email, email_verified: true })
    .setProtectedHeader({ alg: algorithm, kid: keyId, typ: 'JWT' })
    .setIssuer(options.issuer ?? localIssuer)
    .setAudience(options.audience ?? localAudience)
    .setSubject(userId)
    .setIssuedAt(now)
    .setExpirationTime(typeof expiresIn === 'number' ? now + expiresIn : expiresIn)
    .sign(privateKey);
}

export class UnauthorizedError extends Error {
  override readonly name = 'UnauthorizedError';
}

/**
 * Checks a token as the HTTP API JWT authorizer does: signature with a known key id, issuer,
 * audience, expiry, not-before and an issued-at that is not in the future. Any failure is
 * an UnauthorizedError (the server answers 401 `{"message":"Unauthorized"}`).
 */
export async function verifyToken(token: string): Promise<JWTPayload> {
  const { publicKey } = await signingKeys();
  try {
    const { payload, protectedHeader } = await jwtVerify(token, publicKey, {
      algorithms: [algorithm],
      issuer: localIssuer,
      audience: localAudience,
      requiredClaims: ['exp', 'sub'],
    });
    if (protectedHeader.kid !== keyId) throw new UnauthorizedError('unknown key id');
    if (payload.iat !== undefined && payload.iat > Date.now() / 1000 + 60) {
      throw new UnauthorizedError('issued in the future');
    }
    return payload;
  } catch (error) {
    throw error instanceof UnauthorizedError ? error : new UnauthorizedError(String(error));
  }
}

/**
 * Claims as API Gateway hands them to the function: every value a string, arrays written as
 * `[a b]`, so handlers see the same shapes locally and in AWS.
 */
export function authorizerClaims(payload: JWTPayload): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (value === undefined) continue;
    if (typeof value === 'string') claims[name] = value;
    else if (Array.isArray(value)) claims[name] = `[${value.join(' ')}]`;
    else if (typeof value === 'object' && value !== null) claims[name] = JSON.stringify(value);
    else claims[name] = String(value);
  }
  return claims;
}
