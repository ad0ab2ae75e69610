import { describe, expect, it } from 'vitest';
import {
  claimRefusal,
  claimStanding,
  decideRoute,
  mentionsAgent,
  ownerPathCandidates,
} from '#domain/git-claims';

describe('claim rules', () => {
  it.each([
    [{ kind: 'found', state: 'active', role: 'admin' }, undefined],
    [
      { kind: 'found', state: 'active', role: 'member' },
      'You are a member of the GitHub organization, not an admin',
    ],
    [
      { kind: 'found', state: 'pending', role: 'admin' },
      'Your membership of the GitHub organization is pending, not active; accept it first',
    ],
    [{ kind: 'not_found' }, 'The GitHub organization does not exist or you are not a member of it'],
  ] as const)('GitHub membership %j -> %s', (check, refusal) => {
    expect(claimRefusal('github', check)).toBe(refusal);
  });

  it.each([
    [50, undefined],
    [40, 'Your access level on the GitLab group is 40; Owner (50) is required'],
    [30, 'Your access level on the GitLab group is 30; Owner (50) is required'],
  ])('GitLab access level %i -> %s', (accessLevel, refusal) => {
    expect(claimRefusal('gitlab', { kind: 'found', state: 'active', accessLevel })).toBe(refusal);
  });

  it('refuses a GitLab Owner whose membership is not active', () => {
    expect(claimRefusal('gitlab', { kind: 'found', state: 'awaiting', accessLevel: 50 })).toBe(
      'Your membership of the GitLab group is awaiting, not active; accept it first',
    );
  });

  it('shows a claim as here, elsewhere or unclaimed', () => {
    expect(claimStanding(undefined, 'org_a')).toBe('unclaimed');
    expect(claimStanding({ orgId: 'org_a' }, 'org_a')).toBe('claimed_here');
    expect(claimStanding({ orgId: 'org_b' }, 'org_a')).toBe('claimed_elsewhere');
  });
});

describe('repository owner paths', () => {
  it('takes the owner of a GitHub repository, lower-cased', () => {
    expect(ownerPathCandidates('github', 'Acme-Corp/Hello-World')).toEqual(['acme-corp']);
  });

  it('lists the ancestor groups of a GitLab project, nearest first', () => {
    expect(ownerPathCandidates('gitlab', 'Group/Sub/Deep/project')).toEqual([
      'group/sub/deep',
      'group/sub',
      'group',
    ]);
  });

  it.each([
    ['github', 'no-slash'],
    ['github', 'a/b/c'],
    ['gitlab', 'a//b'],
    ['gitlab', '/a/b'],
  ] as const)('rejects %s repository %s', (provider, repository) => {
    expect(ownerPathCandidates(provider, repository)).toBeUndefined();
  });
});

describe('route decision', () => {
  const claim = { orgId: 'org_a', status: 'active' as const };

  it('routes an active claim with a member and a positive balance', () => {
    expect(decideRoute({ claim, memberUserIds: ['u2', 'u1'], balanceMicros: 1 })).toEqual({
      status: 'routed',
      orgId: 'org_a',
      userId: 'u1',
    });
  });

  it('checks claim, status, membership, then credits, in that order', () => {
    expect(decideRoute({ claim: undefined, memberUserIds: ['u1'], balanceMicros: 5 })).toEqual({
      status: 'rejected',
      reason: 'unclaimed',
    });
    expect(
      decideRoute({
        claim: { ...claim, status: 'suspended' },
        memberUserIds: [],
        balanceMicros: 0,
      }),
    ).toEqual({ status: 'rejected', reason: 'claim_suspended', orgId: 'org_a' });
    expect(decideRoute({ claim, memberUserIds: [], balanceMicros: 0 })).toEqual({
      status: 'rejected',
      reason: 'not_member',
      orgId: 'org_a',
    });
    expect(decideRoute({ claim, memberUserIds: ['u1'], balanceMicros: 0 })).toEqual({
      status: 'rejected',
      reason: 'insufficient_credits',
      orgId: 'org_a',
    });
  });
});

describe('agent mentions', () => {
  it.each([
    ['@openhands-agent please fix', true],
    ['Hey @OpenHands-Agent, look', true],
    ['(@openhands-agent)', true],
    ['line one\n@openhands-agent', true],
    ['@openhands-agents is someone else', false],
    ['@openhands-agent-bot is someone else', false],
    ['mail bob@openhands-agent', false],
    ['see github.com/@openhands-agent', false],
    ['no mention', false],
  ])('%j -> %s', (text, expected) => {
    expect(mentionsAgent(text, '@openhands-agent')).toBe(expected);
  });

  it('accepts a configured mention with or without the @', () => {
    expect(mentionsAgent('ping @my.bot now', 'my.bot')).toBe(true);
    expect(mentionsAgent('ping @myXbot now', 'my.bot')).toBe(false);
  });
});
