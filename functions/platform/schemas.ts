import * as z from 'zod';

/** Shared input schemas for path and query parameters. */
export const orgIdParam = z.string().regex(/^org_[A-Za-z0-9_-]{6,64}$/, 'not an organization id');

export const orgParams = z.object({ orgId: orgIdParam });

export const pageQuery = z.object({
  cursor: z.string().max(2048).optional(),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'limit is a whole number from 1 to 100')
    .transform(Number)
    .pipe(z.number().int().min(1).max(100))
    .default(50),
});

/** Text a person typed: no control characters and no lone surrogates (\p{Cc}, \p{Cs}). */
export function safeText(min: number, max: number) {
  return z
    .string()
    .trim()
    .min(min)
    .max(max)
    .regex(/^[^\p{Cc}\p{Cs}]*$/u, 'must not contain control characters');
}
