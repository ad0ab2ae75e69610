/**
 * Pure rules of Git organization claims (DESIGN §6): who may claim, which claimed Git
 * organization a repository belongs to, and whether a resolver request is routed.
 */
export type GitProvider = 'github' | 'gitlab';

export const gitlabOwnerAccessLevel = 50;

export type ClaimStatus = 'active' | 'suspended';

export interface GitClaim {
  claimId: string;
  orgId: string;
  provider: GitProvider;
  gitOrgId: string;
  /** GitHub login or GitLab full path as last seen; look-ups use its lower-cased alias. */
  login: string;
  status: ClaimStatus;
  suspendedReason?: string;
  claimedBy: string;
  claimedAt: string;
}

export type AdminCheck =
  | { kind: 'found'; state: string; role: string }
  | { kind: 'found'; state: string; accessLevel: number }
  | { kind: 'not_found' };

/**
 * Why the caller may not claim, or undefined when they administer the Git organization:
 * GitHub needs an active membership with role admin; GitLab an active member with access level
 * of at least Owner (50), inherited membership included.
 */
export function claimRefusal(provider: GitProvider, check: AdminCheck): string | undefined {
  const name = provider === 'github' ? 'GitHub organization' : 'GitLab group';
  if (check.kind === 'not_found') {
    return `The ${name} does not exist or you are not a member of it`;
  }
  if (check.state !== 'active') {
    return `Your membership of the ${name} is ${check.state}, not active; accept it first`;
  }
  if ('role' in check) {
    return check.role === 'admin'
      ? undefined
      : `You are a ${check.role} of the GitHub organization, not an admin`;
  }
  return check.accessLevel >= gitlabOwnerAccessLevel
    ? undefined
    : `Your access level on the GitLab group is ${check.accessLevel}; Owner (50) is required`;
}

/**
 * The Git organization paths that may own `repository`, nearest first: GitHub `owner/name` ->
 * [owner]; GitLab `group/sub/name` -> [group/sub, group]. Lower-cased; undefined when the
 * repository is not of that provider's shape.
 */
export function ownerPathCandidates(
  provider: GitProvider,
  repository: string,
): string[] | undefined {
  const parts = repository.trim().toLowerCase().split('/');
  if (parts.some((p) => p === '') || parts.length < 2) return undefined;
  if (provider === 'github') return parts.length === 2 ? [parts[0] as string] : undefined;

  const candidates: string[] = [];
  for (let end = parts.length - 1; end >= 1; end--) candidates.push(parts.slice(0, end).join('/'));
  return candidates;
}

export type RejectionReason =
  | 'unclaimed'
  | 'not_member'
  | 'claim_suspended'
  | 'insufficient_credits';

export type ResolveAnswer =
  | { status: 'routed'; orgId: string; userId: string }
  | { status: 'rejected'; reason: RejectionReason; orgId?: string };

/**
 * Decides a resolver request once the facts are read: the nearest claim (if any), which of the
 * platform users linked to the requester's Git login are members of the claiming organization,
 * and its balance. Usage may overdraw, so only a positive balance accepts new work.
 */
export function decideRoute(facts: {
  claim: Pick<GitClaim, 'orgId' | 'status'> | undefined;
  memberUserIds: string[];
  balanceMicros: number;
}): ResolveAnswer {
  const { claim } = facts;
  if (!claim) return { status: 'rejected', reason: 'unclaimed' };
  if (claim.status !== 'active') {
    return { status: 'rejected', reason: 'claim_suspended', orgId: claim.orgId };
  }
  const [userId] = [...facts.memberUserIds].sort();
  if (userId === undefined) return { status: 'rejected', reason: 'not_member', orgId: claim.orgId };
  if (facts.balanceMicros <= 0) {
    return { status: 'rejected', reason: 'insufficient_credits', orgId: claim.orgId };
  }
  return { status: 'routed', orgId: claim.orgId, userId };
}

/** How the claim listing shows a Git organization to the organization `orgId`. */
export function claimStanding(
  claim: Pick<GitClaim, 'orgId'> | undefined,
  orgId: string,
): 'unclaimed' | 'claimed_here' | 'claimed_elsewhere' {
  if (!claim) return 'unclaimed';
  return claim.orgId === orgId ? 'claimed_here' : 'claimed_elsewhere';
}

/**
 * True when `text` mentions the agent as a whole handle (`@openhands-agent`, any case), not as
 * part of a longer handle, an e-mail address or a path.
 */
export function mentionsAgent(text: string | null | undefined, mention: string): boolean {
  if (!text) return false;
  const handle = mention.startsWith('@') ? mention : `@${mention}`;
  const escaped = handle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\w@./-])${escaped}(?![\\w-])`, 'i').test(spokenText(text));
}

/**
 * The part of a Markdown comment that is the author speaking: without fenced or inline code,
 * quoted lines and HTML comments, where a mention is quoted or shown rather than made (GitHub
 * and GitLab do not notify for those either).
 */
export function spokenText(markdown: string): string {
  const withoutMarkup = markdown
    .replaceAll(String.fromCharCode(0), ' ')
    .replace(/<!--[\s\S]*?(-->|$)/g, ' ')
    .replace(/<(code|pre)\b[^>]*>[\s\S]*?(<\/\1\s*>|$)/gi, ' ')
    .replace(/^( {0,3})(`{3,}|~{3,})[^\n]*\n[\s\S]*?(^\1?\2[`~]*[ \t]*$|(?![\s\S]))/gm, ' ')
    .replace(/(`+)[\s\S]*?\1/g, ' ')
    .replace(/^ {0,3}>.*$/gm, ' ');
  return withoutIndentedCode(withoutMarkup);
}

/** Drops indented code blocks: lines indented four spaces (or a tab) after a blank line. */
function withoutIndentedCode(markdown: string): string {
  let previousBlank = true;
  let inBlock = false;
  return markdown
    .split('\n')
    .map((line) => {
      const blank = line.trim() === '';
      const indented = /^( {4}|\t)/.test(line);
      inBlock = !blank && indented && (inBlock || previousBlank) ? true : blank ? inBlock : false;
      previousBlank = blank;
      return inBlock && !blank ? '' : line;
    })
    .join('\n');
}
