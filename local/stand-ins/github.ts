import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback, sendJson, standInServer } from '#local/stand-ins/serve';

/**
 * A local stand-in for the parts of GitHub's REST API the service calls with a user's token:
 * GET /user, GET /user/memberships/orgs, GET /user/memberships/orgs/{org}, GET /orgs/{org}.
 * Answers in GitHub's documented shapes; an unknown token is 401 "Bad credentials".
 */
export interface GithubSeedOrg {
  id: number;
  login: string;
}

export interface GithubSeedUser {
  id: number;
  login: string;
  /** Organization login -> membership as GET /user/memberships/orgs/{org} reports it. */
  memberships: Record<string, { state: 'active' | 'pending'; role: 'admin' | 'member' }>;
}

export interface GithubSeed {
  orgs: GithubSeedOrg[];
  /** Token -> the user it authenticates. */
  tokens: Record<string, GithubSeedUser>;
}

export const githubSeed: GithubSeed = {
  orgs: [
    { id: 5001, login: 'acme-corp' },
    { id: 5002, login: 'widgets-inc' },
    { id: 5003, login: 'pending-co' },
  ],
  tokens: {
    ghp_demo_owner: {
      id: 1001,
      login: 'octo-owner',
      memberships: {
        'acme-corp': { state: 'active', role: 'admin' },
        'widgets-inc': { state: 'active', role: 'member' },
        'pending-co': { state: 'pending', role: 'admin' },
      },
    },
    ghp_demo_rival: {
      id: 1002,
      login: 'octo-rival',
      memberships: { 'acme-corp': { state: 'active', role: 'admin' } },
    },
    ghp_demo_member: {
      id: 1003,
      login: 'octo-member',
      memberships: { 'acme-corp': { state: 'active', role: 'member' } },
    },
  },
};

export interface StandIn {
  url: string;
  close: () => Promise<void>;
  /** Makes the provider reject `token` from now on, as after the user revokes it. */
  revokeToken: (token: string) => void;
}

export async function startGithubStandIn(
  options: { port?: number; seed?: GithubSeed } = {},
): Promise<StandIn> {
  const seed = options.seed ?? githubSeed;
  const revoked = new Set<string>();
  let baseUrl = '';

  const server = standInServer(answer, { message: 'Server Error' });

  function answer(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (request.method !== 'GET') return sendJson(response, 404, notFound());

    if (parts[0] === 'orgs' && parts.length === 2) {
      const org = findOrg(parts[1] ?? '');
      return org ? sendJson(response, 200, orgBody(org)) : sendJson(response, 404, notFound());
    }

    const user = authenticate(request);
    if (!user) {
      return sendJson(response, 401, {
        message: 'Bad credentials',
        documentation_url: 'https://docs.github.com/rest',
        status: '401',
      });
    }

    if (parts.length === 1 && parts[0] === 'user') return sendJson(response, 200, userBody(user));

    if (parts[0] === 'user' && parts[1] === 'memberships' && parts[2] === 'orgs') {
      if (parts.length === 3) {
        const state = url.searchParams.get('state');
        const list = Object.entries(user.memberships)
          .filter(([, m]) => !state || m.state === state)
          .flatMap(([login, m]) => {
            const org = findOrg(login);
            return org ? [membershipBody(user, org, m)] : [];
          });
        return sendJson(response, 200, list);
      }
      if (parts.length === 4) {
        const org = findOrg(parts[3] ?? '');
        const membership = org && membershipOf(user, org);
        if (!org || !membership) return sendJson(response, 404, notFound());
        return sendJson(response, 200, membershipBody(user, org, membership));
      }
    }
    return sendJson(response, 404, notFound());
  }

  function authenticate(request: IncomingMessage): GithubSeedUser | undefined {
    const header = request.headers.authorization ?? '';
    const token = header.replace(/^(token|bearer)\s+/i, '');
    if (revoked.has(token)) return undefined;
    return seed.tokens[token];
  }

  function findOrg(login: string): GithubSeedOrg | undefined {
    return seed.orgs.find((o) => o.login.toLowerCase() === login.toLowerCase());
  }

  function membershipOf(user: GithubSeedUser, org: GithubSeedOrg) {
    const key = Object.keys(user.memberships).find(
      (login) => login.toLowerCase() === org.login.toLowerCase(),
    );
    return key === undefined ? undefined : user.memberships[key];
  }

  function userBody(user: GithubSeedUser) {
    return {
      login: user.login,
      id: user.id,
      node_id: Buffer.from(`04:User${user.id}`).toString('base64'),
      url: `${baseUrl}/users/${user.login}`,
      html_url: `https://github.com/${user.login}`,
      type: 'User',
      site_admin: false,
    };
  }

  function orgBody(org: GithubSeedOrg) {
    return {
      login: org.login,
      id: org.id,
      node_id: Buffer.from(`04:Organization${org.id}`).toString('base64'),
      url: `${baseUrl}/orgs/${org.login}`,
      repos_url: `${baseUrl}/orgs/${org.login}/repos`,
      avatar_url: `https://avatars.githubusercontent.com/u/${org.id}?v=4`,
      description: null,
    };
  }

  function membershipBody(
    user: GithubSeedUser,
    org: GithubSeedOrg,
    membership: GithubSeedUser['memberships'][string],
  ) {
    return {
      url: `${baseUrl}/orgs/${org.login}/memberships/${user.login}`,
      state: membership.state,
      role: membership.role,
      organization_url: `${baseUrl}/orgs/${org.login}`,
      organization: orgBody(org),
      user: userBody(user),
    };
  }

  const { origin, close } = await listenOnLoopback(server, options.port);
  baseUrl = origin;
  return { url: baseUrl, close, revokeToken: (token) => revoked.add(token) };
}

function notFound() {
  return { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' };
}
