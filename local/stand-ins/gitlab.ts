import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StandIn } from '#local/stand-ins/github';
import { listenOnLoopback, sendJson, standInServer } from '#local/stand-ins/serve';

/**
 * A local stand-in for the parts of GitLab's REST API (v4) the service calls with a user's
 * token: GET /user, GET /groups?min_access_level=, GET /groups/:id (numeric id or URL-encoded
 * full path) and GET /groups/:id/members/all/:user_id (inherited membership included: the
 * highest access level on the group or any ancestor). An unknown token is 401.
 */
export interface GitlabSeedGroup {
  id: number;
  path: string;
  name: string;
  parentId: number | null;
}

export interface GitlabSeedUser {
  id: number;
  username: string;
  /** Group id -> direct access level (10 guest .. 50 owner). */
  memberships: Record<number, number>;
}

export interface GitlabSeed {
  groups: GitlabSeedGroup[];
  tokens: Record<string, GitlabSeedUser>;
}

export const gitlabSeed: GitlabSeed = {
  groups: [
    { id: 7001, path: 'acme-group', name: 'Acme Group', parentId: null },
    { id: 7002, path: 'platform', name: 'Platform', parentId: 7001 },
    { id: 7003, path: 'backend', name: 'Backend', parentId: 7002 },
    { id: 7004, path: 'maintained-group', name: 'Maintained Group', parentId: null },
    { id: 7005, path: 'dev-group', name: 'Dev Group', parentId: null },
    { id: 7006, path: 'owned-sub', name: 'Owned Sub', parentId: 7005 },
  ],
  tokens: {
    'glpat-demo-owner': {
      id: 2001,
      username: 'gl-owner',
      // Owner of acme-group (and so, inherited, of its subgroups); Maintainer (40) of
      // maintained-group; Developer (30) of dev-group but Owner of its subgroup owned-sub.
      memberships: { 7001: 50, 7004: 40, 7005: 30, 7006: 50 },
    },
    'glpat-demo-rival': { id: 2002, username: 'gl-rival', memberships: { 7001: 50 } },
    'glpat-demo-member': { id: 2003, username: 'gl-member', memberships: { 7001: 30 } },
  },
};

export async function startGitlabStandIn(
  options: { port?: number; seed?: GitlabSeed } = {},
): Promise<StandIn> {
  const seed = options.seed ?? gitlabSeed;
  const revoked = new Set<string>();
  let baseUrl = '';

  const server = standInServer(answer, { message: '500 Internal Server Error' });

  function answer(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const prefix = '/api/v4/';
    if (request.method !== 'GET' || !url.pathname.startsWith(prefix)) {
      return sendJson(response, 404, { error: '404 Not Found' });
    }
    const parts = url.pathname.slice(prefix.length).split('/').filter(Boolean);

    const user = authenticate(request);
    if (!user) return sendJson(response, 401, { message: '401 Unauthorized' });

    if (parts.length === 1 && parts[0] === 'user') {
      return sendJson(response, 200, {
        id: user.id,
        username: user.username,
        name: user.username,
        state: 'active',
        web_url: `https://gitlab.example/${user.username}`,
      });
    }

    if (parts[0] === 'groups' && parts.length === 1) {
      const minLevel = Number(url.searchParams.get('min_access_level') ?? '0');
      const groups = seed.groups
        .filter((g) => {
          const level = effectiveLevel(user, g);
          return level > 0 && level >= minLevel;
        })
        .map(groupBody);
      return sendJson(response, 200, groups, { 'x-next-page': '', 'x-page': '1' });
    }

    const group = parts[0] === 'groups' ? findGroup(decodeURIComponent(parts[1] ?? '')) : undefined;
    // Private groups are invisible to non-members: GitLab answers 404, not 403.
    if (!group || effectiveLevel(user, group) === 0) {
      return sendJson(response, 404, { message: '404 Group Not Found' });
    }
    if (parts.length === 2) return sendJson(response, 200, groupBody(group));

    if (parts.length === 5 && parts[2] === 'members' && parts[3] === 'all') {
      const member = Object.values(seed.tokens).find((u) => String(u.id) === parts[4]);
      const level = member ? effectiveLevel(member, group) : 0;
      if (!member || level === 0) return sendJson(response, 404, { message: '404 Not found' });
      return sendJson(response, 200, {
        id: member.id,
        username: member.username,
        name: member.username,
        state: 'active',
        access_level: level,
        membership_state: 'active',
        web_url: `https://gitlab.example/${member.username}`,
      });
    }
    return sendJson(response, 404, { error: '404 Not Found' });
  }

  function authenticate(request: IncomingMessage): GitlabSeedUser | undefined {
    const bearer = (request.headers.authorization ?? '').replace(/^bearer\s+/i, '');
    const token = String(request.headers['private-token'] ?? bearer);
    if (revoked.has(token)) return undefined;
    return seed.tokens[token];
  }

  function findGroup(idOrPath: string): GitlabSeedGroup | undefined {
    if (/^\d+$/.test(idOrPath)) return seed.groups.find((g) => String(g.id) === idOrPath);
    return seed.groups.find((g) => fullPath(g).toLowerCase() === idOrPath.toLowerCase());
  }

  function ancestors(group: GitlabSeedGroup): GitlabSeedGroup[] {
    const chain = [group];
    let parentId = group.parentId;
    while (parentId !== null) {
      const parent = seed.groups.find((g) => g.id === parentId);
      if (!parent) break;
      chain.push(parent);
      parentId = parent.parentId;
    }
    return chain;
  }

  function fullPath(group: GitlabSeedGroup): string {
    return ancestors(group)
      .reverse()
      .map((g) => g.path)
      .join('/');
  }

  function effectiveLevel(user: GitlabSeedUser, group: GitlabSeedGroup): number {
    return Math.max(0, ...ancestors(group).map((g) => user.memberships[g.id] ?? 0));
  }

  function groupBody(group: GitlabSeedGroup) {
    const path = fullPath(group);
    return {
      id: group.id,
      name: group.name,
      path: group.path,
      full_name: ancestors(group)
        .reverse()
        .map((g) => g.name)
        .join(' / '),
      full_path: path,
      parent_id: group.parentId,
      visibility: 'private',
      web_url: `https://gitlab.example/groups/${path}`,
    };
  }

  const { origin, close } = await listenOnLoopback(server, options.port);
  baseUrl = `${origin}/api/v4`;
  return { url: baseUrl, close, revokeToken: (token) => revoked.add(token) };
}
