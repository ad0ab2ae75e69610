import * as z from 'zod/mini';

/** Shared input schemas for path and query parameters. */
export const orgIdParam = z
  .string()
  .check(z.regex(/^org_[A-Za-z0-9_-]{6,64}$/, 'not an organization id'));

export const orgParams = z.object({ orgId: orgIdParam });

export const pageQuery = z.object({
  cursor: z.optional(z.string().check(z.maxLength(2048))),
  limit: z._default(
    z.pipe(
      z.pipe(
        z.string().check(z.regex(/^\d{1,3}$/, 'limit is a whole number from 1 to 100')),
        z.transform(Number),
      ),
      z.number().check(z.int(), z.gte(1), z.lte(100)),
    ),
    50,
  ),
});

/** Text a person typed: no control characters and no lone surrogates (\p{Cc}, \p{Cs}). */
export function safeText(min: number, max: number) {
  return z
    .string()
    .check(
      z.trim(),
      z.minLength(min),
      z.maxLength(max),
      z.regex(/^[^\p{Cc}\p{Cs}]*$/u, 'must not contain control characters'),
    );
}
