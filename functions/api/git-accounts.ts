import * as z from 'zod/mini';
import {
  deleteGitAccount,
  type GitAccount,
  gitTokenContext,
  putGitAccount,
} from '#data/git-accounts';
import { encryptSecret, secretHint } from '#platform/encryption';
import { BadRequestError, NotFoundError } from '#platform/errors';
import { fetchGitIdentity, GitTokenRejectedError, providerNames } from '#platform/git-providers';
import { httpRoute, json } from '#platform/http';

/**
 * PUT/DELETE /api/users/me/git-accounts/{provider}: link a GitHub or GitLab account by a token
 * the provider accepts. The token is stored encrypted and never returned (at most its last four
 * characters). Linking again replaces the earlier link.
 */
const providerParams = z.object({ provider: z.enum(['github', 'gitlab']) });

const tokenBody = z.strictObject({
  // Tokens are sent in an Authorization header: printable ASCII, no spaces or line breaks.
  token: z
    .string()
    .check(
      z.trim(),
      z.minLength(8),
      z.maxLength(512),
      z.regex(/^[\x21-\x7e]+$/, 'a token has no spaces or control characters'),
    ),
});

export const linkGitAccount = /* @__PURE__ */ httpRoute(
  { params: providerParams, body: tokenBody },
  async ({ caller, params, body }) => {
    const { provider } = params;
    let identity: Awaited<ReturnType<typeof fetchGitIdentity>>;
    try {
      identity = await fetchGitIdentity(provider, body.token);
    } catch (error) {
      if (!(error instanceof GitTokenRejectedError)) throw error;
      throw new BadRequestError(
        `${providerNames[provider]} rejected this token; check that it is valid and not expired`,
        undefined,
        'git_token_rejected',
      );
    }

    const account: GitAccount = {
      userId: caller.userId,
      provider,
      gitUserId: identity.gitUserId,
      login: identity.login,
      encryptedToken: await encryptSecret(body.token, gitTokenContext(caller.userId, provider)),
      tokenHint: secretHint(body.token),
      linkedAt: new Date().toISOString(),
    };
    await putGitAccount(account);
    return json(200, presentGitAccount(account));
  },
);

export const unlinkGitAccount = /* @__PURE__ */ httpRoute(
  { params: providerParams },
  async ({ caller, params }) => {
    const removed = await deleteGitAccount(caller.userId, params.provider);
    if (!removed) {
      throw new NotFoundError(
        `No ${providerNames[params.provider]} account is linked`,
        'git_account_not_linked',
      );
    }
    return json(204);
  },
);

export function presentGitAccount(account: GitAccount) {
  return {
    provider: account.provider,
    login: account.login,
    gitUserId: account.gitUserId,
    tokenSet: true,
    tokenHint: account.tokenHint,
    linkedAt: account.linkedAt,
  };
}
