import * as z from 'zod/mini';
import { findLinkedUsersByGitLogin } from '#data/git-accounts';
import { findNearestClaim, readRoutingFacts } from '#data/git-claims';
import { decideRoute, ownerPathCandidates, type ResolveAnswer } from '#domain/git-claims';
import { json, parseJsonBody, validationError, webhookRoute } from '#platform/http';

/**
 * Which organization owns resolver work on a repository (DESIGN §6). Resolver Lambdas ask
 * through POST /internal/resolve (IAM-authorized by API Gateway, so no JWT here) or by invoking
 * `resolveRepositoryDirect` with the same input object. The answer is the claiming organization
 * and the platform user the requester is, or why not.
 */
export const resolveInput = z
  .object({
    provider: z.enum(['github', 'gitlab']),
    /** `owner/name` (GitHub) or `group/sub/name` (GitLab). */
    repository: z.string().check(z.trim(), z.minLength(3), z.maxLength(1024)),
    requesterLogin: z.string().check(z.trim(), z.minLength(1), z.maxLength(255)),
    /** The requester's numeric Git user id, when known: guards against a login re-used by someone else. */
    requesterId: z.optional(
      z.pipe(
        z.union([z.string().check(z.minLength(1)), z.number().check(z.int())]),
        z.transform(String),
      ),
    ),
  })
  .check(
    z.refine((input) => ownerPathCandidates(input.provider, input.repository) !== undefined, {
      message: 'must be owner/name for GitHub or group[/subgroup...]/name for GitLab',
      path: ['repository'],
    }),
  );

export type ResolveInput = z.output<typeof resolveInput>;

export async function resolveRepository(input: ResolveInput): Promise<ResolveAnswer> {
  const paths = ownerPathCandidates(input.provider, input.repository) ?? [];
  // Who the requester is does not depend on the claim: look both up side by side.
  const [claim, linked] = await Promise.all([
    findNearestClaim(input.provider, paths),
    findLinkedUsersByGitLogin(input.provider, input.requesterLogin),
  ]);
  if (claim?.status !== 'active') {
    return decideRoute({ claim, memberUserIds: [], balanceMicros: 0 });
  }

  const userIds = linked
    .filter((account) => !input.requesterId || account.gitUserId === input.requesterId)
    .map((account) => account.userId);
  const facts =
    userIds.length > 0
      ? await readRoutingFacts(claim.orgId, userIds)
      : { memberUserIds: [], balanceMicros: 0 };
  return decideRoute({ claim, ...facts });
}

export const resolveRepositoryRoute = /* @__PURE__ */ webhookRoute(async ({ rawBody, headers }) => {
  const body = parseJsonBody(rawBody, headers['content-type']);
  return json(200, await resolveRepository(parseResolveInput(body)));
});

export async function resolveRepositoryDirect(input: unknown): Promise<ResolveAnswer> {
  return resolveRepository(parseResolveInput(input));
}

function parseResolveInput(value: unknown): ResolveInput {
  const result = resolveInput.safeParse(value);
  if (!result.success) throw validationError(result.error, 'body');
  return result.data;
}
