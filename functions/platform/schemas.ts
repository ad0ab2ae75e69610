import { z } from 'zod';

/** Shared input schemas for path and query parameters. */
export const orgIdParam = z.string().regex(/^org_[A-Za-z0-9_-]{6,64}$/, 'not an organization id');

export const orgParams = z.object({ orgId: orgIdParam });

export const pageQuery = z.object({
  cursor: z.string().max(2048).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
