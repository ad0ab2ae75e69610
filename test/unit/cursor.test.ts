import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '#data/cursor';

const scope = { pk: 'ORG#org_abc123', skPrefix: 'MEMBER#' };
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('pagination cursors', () => {
  it('round-trips a key of the query it continues', () => {
    const key = { pk: 'ORG#org_abc123', sk: 'MEMBER#user-1' };
    expect(decodeCursor(encodeCursor(key), scope)).toEqual(key);
  });

  it.each([
    ['another partition', { pk: 'ORG#org_other1', sk: 'MEMBER#u' }],
    ['a sort key outside the query', { pk: 'ORG#org_abc123', sk: 'ZZZ' }],
    ['an empty sort key', { pk: 'ORG#org_abc123', sk: '' }],
    ['an extra attribute', { pk: 'ORG#org_abc123', sk: 'MEMBER#u', x: 'y' }],
    ['a number where a key belongs', { pk: 'ORG#org_abc123', sk: 7 }],
    ['an array', ['ORG#org_abc123']],
  ])('refuses %s with a 400', (_, value) => {
    expect(() => decodeCursor(encode(value), scope)).toThrow(
      expect.objectContaining({ statusCode: 400, code: 'invalid_cursor' }),
    );
  });

  it('refuses bytes that are not JSON', () => {
    expect(() => decodeCursor('%%%not-base64', scope)).toThrow(
      expect.objectContaining({ statusCode: 400 }),
    );
  });

  it('checks index cursors against the caller’s index partition', () => {
    const indexScope = { gsi1pk: 'USER#me', gsi1skPrefix: 'ORG#' };
    const mine = { pk: 'ORG#org_a', sk: 'MEMBER#me', gsi1pk: 'USER#me', gsi1sk: 'ORG#org_a' };
    expect(decodeCursor(encode(mine), indexScope)).toEqual(mine);
    expect(() =>
      decodeCursor(encode({ ...mine, gsi1pk: 'USER#someone-else' }), indexScope),
    ).toThrow(expect.objectContaining({ statusCode: 400 }));
  });
});
