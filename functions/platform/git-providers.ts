import { Octokit } from '@octokit/core';
import { paginateRest } from '@octokit/plugin-paginate-rest';
import { type GitProvider, gitlabOwnerAccessLevel } from '#domain/git-claims';
import { optionalEnv } from '#platform/config';
import { AppError, ForbiddenError, UpstreamError } from '#platform/errors';

/**
 * The GitHub and GitLab APIs this service calls with a user's linked token: who the token
 * belongs to, which organizations/groups the user administers, and the user's membership in one
 * organization/group. The base URLs select the real services or the local stand-ins; nothing
 * else here knows which it talks to.
 */
export type { GitProvider };

const githubApiBase = optionalEnv('GITHUB_API_BASE', 'https://api.github.com');
const gitlabApiBase = optionalEnv('GITLAB_API_BASE', 'https://gitlab.com/api/v4').replace(
  /\/+$/,
  '',
);
const requestTimeoutMs = 8_000;

/**
 * Octokit's core with pagination: the three GitHub endpoints used are called by route, so the
 * generated method table of `@octokit/rest` (most of its size) is not loaded.
 */
const GitHub = Octokit.plugin(paginateRest);
type GitHubClient = InstanceType<typeof GitHub>;

export const providerNames: Record<GitProvider, string> = { github: 'GitHub', gitlab: 'GitLab' };

/** The provider refused the token (revoked, expired, wrong scopes for the identity call). */
export class GitTokenRejectedError extends AppError {
  constructor(readonly provider: GitProvider) {
    super(
      403,
      'git_token_rejected',
      `${providerNames[provider]} rejected the linked token; link your ${providerNames[provider]}` +
        ` account again with PUT /api/users/me/git-accounts/${provider}`,
    );
  }
}

export interface GitIdentity {
  gitUserId: string;
  login: string;
}

export interface GitOrganizationRef {
  gitOrgId: string;
  /** GitHub login or GitLab full path, as the provider spells it. */
  login: string;
  name?: string;
}

/** The caller's standing in one Git organization, as the provider reports it right now. */
export type GitMembershipState =
  | { kind: 'found'; organization: GitOrganizationRef; state: string; role: string }
  | { kind: 'found'; organization: GitOrganizationRef; state: string; accessLevel: number }
  | { kind: 'not_found' };

export async function fetchGitIdentity(provider: GitProvider, token: string): Promise<GitIdentity> {
  if (provider === 'github') {
    const { data } = await callGithub(token, (octokit) => octokit.request('GET /user'));
    return { gitUserId: String(data.id), login: data.login };
  }
  const user = await gitlabGet<{ id: number; username: string }>(token, '/user');
  if (!user) throw new GitTokenRejectedError('gitlab');
  return { gitUserId: String(user.id), login: user.username };
}

/** GitHub organizations where the user is an active admin; GitLab groups with Owner access. */
export async function listAdministeredOrganizations(
  provider: GitProvider,
  token: string,
): Promise<GitOrganizationRef[]> {
  if (provider === 'github') {
    const memberships = await callGithub(token, (octokit) =>
      octokit.paginate('GET /user/memberships/orgs', {
        state: 'active',
        per_page: 100,
      }),
    );
    return memberships
      .filter((m) => m.state === 'active' && m.role === 'admin')
      .map((m) => ({ gitOrgId: String(m.organization.id), login: m.organization.login }));
  }

  const groups: Array<{ id: number; full_path: string; name: string }> = [];
  for (let page = 1; page <= 50; page++) {
    const query = `min_access_level=${gitlabOwnerAccessLevel}&per_page=100&page=${page}`;
    const result = await gitlabGetPage<typeof groups>(token, `/groups?${query}`);
    groups.push(...result.body);
    if (!result.nextPage) break;
  }
  return groups.map((g) => ({ gitOrgId: String(g.id), login: g.full_path, name: g.name }));
}

/**
 * The caller's membership in `gitOrganization` (GitHub login; GitLab full path or numeric id),
 * including inherited GitLab membership. Unknown organizations and non-members are `not_found`.
 */
export async function fetchGitMembership(
  provider: GitProvider,
  token: string,
  gitUserId: string,
  gitOrganization: string,
): Promise<GitMembershipState> {
  if (provider === 'github') {
    try {
      const { data } = await callGithub(token, (octokit) =>
        octokit.request('GET /user/memberships/orgs/{org}', { org: gitOrganization }),
      );
      return {
        kind: 'found',
        organization: { gitOrgId: String(data.organization.id), login: data.organization.login },
        state: data.state,
        role: data.role,
      };
    } catch (error) {
      if (error instanceof GitNotFound) return { kind: 'not_found' };
      throw error;
    }
  }

  const group = await gitlabGet<{ id: number; full_path: string; name: string }>(
    token,
    `/groups/${encodeURIComponent(gitOrganization)}`,
  );
  if (!group) return { kind: 'not_found' };
  const member = await gitlabGet<{ access_level: number; state?: string }>(
    token,
    `/groups/${group.id}/members/all/${encodeURIComponent(gitUserId)}`,
  );
  if (!member) return { kind: 'not_found' };
  return {
    kind: 'found',
    organization: { gitOrgId: String(group.id), login: group.full_path, name: group.name },
    state: member.state ?? 'active',
    accessLevel: member.access_level,
  };
}

class GitNotFound extends Error {}

async function callGithub<T>(
  token: string,
  call: (octokit: GitHubClient) => Promise<T>,
): Promise<T> {
  const octokit = new GitHub({
    auth: token,
    baseUrl: githubApiBase,
    userAgent: 'organizations-service',
    request: { fetch: timedFetch },
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  try {
    return await call(octokit);
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 401) throw new GitTokenRejectedError('github');
    if (status === 404) throw new GitNotFound();
    if (status === 403) {
      throw new ForbiddenError(
        'GitHub refused the request with the linked token (it may lack the read:org scope or ' +
          'need SAML SSO authorization for this organization)',
        'git_provider_forbidden',
      );
    }
    throw new UpstreamError(`GitHub answered ${status ?? 'with a network error'}`);
  }
}

async function gitlabGet<T>(token: string, path: string): Promise<T | undefined> {
  try {
    return (await gitlabGetPage<T>(token, path)).body;
  } catch (error) {
    if (error instanceof GitNotFound) return undefined;
    throw error;
  }
}

async function gitlabGetPage<T>(
  token: string,
  path: string,
): Promise<{ body: T; nextPage: string | undefined }> {
  let response: Response;
  try {
    response = await timedFetch(`${gitlabApiBase}${path}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
  } catch {
    throw new UpstreamError('GitLab could not be reached');
  }
  if (response.status === 401) throw new GitTokenRejectedError('gitlab');
  if (response.status === 404) throw new GitNotFound();
  if (!response.ok) throw new UpstreamError(`GitLab answered ${response.status}`);
  const nextPage = response.headers.get('x-next-page') || undefined;
  return { body: (await response.json()) as T, nextPage };
}

function timedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  return fetch(input, { ...init, signal: AbortSignal.timeout(requestTimeoutMs) });
}
