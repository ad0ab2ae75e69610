import { BadRequestError } from '#platform/errors';

/**
 * Opaque pagination cursors: DynamoDB's LastEvaluatedKey, base64url-encoded JSON. A cursor
 * that does not decode to a plain object of strings is a 400, never a DynamoDB error.
 */
export type DynamoKey = Record<string, unknown>;

export function encodeCursor(key: DynamoKey | undefined): string | undefined {
  if (!key) return undefined;
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeCursor(
  cursor: string | undefined,
  expectedPk?: string,
): DynamoKey | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new BadRequestError('Invalid cursor', undefined, 'invalid_cursor');
  }
  const valid =
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string') &&
    typeof (value as DynamoKey).pk === 'string' &&
    typeof (value as DynamoKey).sk === 'string';
  if (!valid || (expectedPk !== undefined && (value as DynamoKey).pk !== expectedPk)) {
    throw new BadRequestError('Invalid cursor', undefined, 'invalid_cursor');
  }
  return value as DynamoKey;
}
