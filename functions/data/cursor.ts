import { BadRequestError } from '#platform/errors';

/**
 * Opaque pagination cursors: DynamoDB's LastEvaluatedKey, base64url-encoded JSON. A cursor is
 * checked against the query it continues (same partition, the sort-key prefix the query reads,
 * exactly the key attributes of that table or index) so a forged or foreign cursor is a 400,
 * never a DynamoDB error or a read outside the caller's partition.
 */
export type DynamoKey = Record<string, string>;

export interface CursorScope {
  /** Table queries: the partition and the sort-key prefix the query reads. */
  pk?: string;
  skPrefix?: string;
  /** GSI1 queries: the index partition and sort-key prefix. */
  gsi1pk?: string;
  gsi1skPrefix?: string;
}

export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  if (!key) return undefined;
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeCursor(
  cursor: string | undefined,
  scope: CursorScope,
): DynamoKey | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidCursor();

  const key = value as Record<string, unknown>;
  const expectedAttributes = scope.gsi1pk ? ['gsi1pk', 'gsi1sk', 'pk', 'sk'] : ['pk', 'sk'];
  const attributes = Object.keys(key).sort();
  const shapeOk =
    attributes.length === expectedAttributes.length &&
    attributes.every((name, i) => name === expectedAttributes[i] && isKeyString(key[name]));
  if (!shapeOk) throw invalidCursor();

  const typed = key as DynamoKey;
  const inScope =
    (scope.pk === undefined || typed.pk === scope.pk) &&
    (scope.skPrefix === undefined || (typed.sk ?? '').startsWith(scope.skPrefix)) &&
    (scope.gsi1pk === undefined || typed.gsi1pk === scope.gsi1pk) &&
    (scope.gsi1skPrefix === undefined || (typed.gsi1sk ?? '').startsWith(scope.gsi1skPrefix));
  if (!inScope) throw invalidCursor();
  return typed;
}

function isKeyString(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0 && value.length <= 1024;
}

function invalidCursor() {
  return new BadRequestError('Invalid cursor', undefined, 'invalid_cursor');
}
