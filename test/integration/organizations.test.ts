import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as members from '#api/members';
import * as orgs from '#api/organizations';
import { findUsersByEmail } from '#data/users';
import { documentClient } from '#platform/aws-clients';
import { apiEvent, invoke } from '#test/support/api-event';
import { newUser, signedInUser } from '#test/support/users';

type User = ReturnType<typeof newUser>;

async function createOrg(owner: User, name = 'Acme') {
  const res = await invoke(
    orgs.createOrganization,
    apiEvent({ method: 'POST', path: '/api/organizations', body: { name }, ...owner }),
  );
  expect(res.statusCode).toBe(201);
  return res.body.orgId as string;
}

async function signIn(user: User) {
  const res = await invoke(
    orgs.listMyOrganizations,
    apiEvent({ method: 'GET', path: '/api/organizations', ...user }),
  );
  expect(res.statusCode).toBe(200);
}

function add(actor: User, orgId: string, body: unknown) {
  return invoke(
    members.addMember,
    apiEvent({ method: 'POST', path: '', params: { orgId }, body, ...actor }),
  );
}

function changeRole(actor: User, orgId: string, userId: string, role: string) {
  return invoke(
    members.changeMemberRole,
    apiEvent({ method: 'PATCH', path: '', params: { orgId, userId }, body: { role }, ...actor }),
  );
}

function remove(actor: User, orgId: string, userId: string) {
  return invoke(
    members.removeMember,
    apiEvent({ method: 'DELETE', path: '', params: { orgId, userId }, ...actor }),
  );
}

describe('organizations and members', () => {
  it('makes the creator the owner and lists the organization with their role', async () => {
    const owner = await signedInUser('owner');
    const orgId = await createOrg(owner, 'Acme Robotics');

    const mine = await invoke(
      orgs.listMyOrganizations,
      apiEvent({ method: 'GET', path: '/api/organizations', ...owner }),
    );
    expect(mine.body.organizations).toEqual([
      { orgId, name: 'Acme Robotics', role: 'owner', joinedAt: expect.any(String) },
    ]);
  });

  it('adds members by email once they have signed in, and refuses unknown emails', async () => {
    const owner = await signedInUser('owner');
    const admin = newUser('admin');
    const orgId = await createOrg(owner);

    const unknown = await add(owner, orgId, { email: admin.email, role: 'admin' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body.error.code).toBe('user_not_found');

    await signIn(admin);
    const added = await add(owner, orgId, { email: admin.email.toUpperCase(), role: 'admin' });
    expect(added.statusCode).toBe(201);
    expect(added.body).toMatchObject({ userId: admin.userId, role: 'admin' });

    const again = await add(owner, orgId, { email: admin.email, role: 'member' });
    expect(again.statusCode).toBe(409);
  });

  it('refuses to attach an email to a user id that belongs to someone else', async () => {
    const owner = await signedInUser('owner');
    const alice = await signedInUser('alice');
    const orgId = await createOrg(owner);

    const ghost = await add(owner, orgId, { userId: 'never-signed-in', email: alice.email });
    expect(ghost.statusCode).toBe(404);
    const mismatch = await add(owner, orgId, { userId: alice.userId, email: owner.email });
    expect(mismatch.statusCode).toBe(409);
    expect(mismatch.body.error.code).toBe('user_mismatch');
  });

  it('ignores an email the identity provider has not verified', async () => {
    const mallory = newUser('mallory');
    const res = await invoke(
      orgs.createOrganization,
      apiEvent({
        method: 'POST',
        path: '',
        body: { name: 'Spoof' },
        userId: mallory.userId,
        email: 'ceo@victim.example',
        emailVerified: false,
      }),
    );
    expect(res.statusCode).toBe(400);
    expect(res.body.error.code).toBe('email_required');
  });

  it('refuses a subject that cannot be a user id with 401', async () => {
    const res = await invoke(
      orgs.listMyOrganizations,
      apiEvent({ method: 'GET', path: '', userId: 'x'.repeat(3000), email: 'a@example.com' }),
    );
    expect(res.statusCode).toBe(401);
  });

  it('hides an organization from non-members with 404', async () => {
    const owner = await signedInUser('owner');
    const stranger = await signedInUser('stranger');
    const orgId = await createOrg(owner);

    const res = await invoke(
      orgs.getOrganization,
      apiEvent({ method: 'GET', path: '', params: { orgId }, ...stranger }),
    );
    expect(res.statusCode).toBe(404);
  });

  it('answers a non-member adding someone with organization_not_found, not the user lookup', async () => {
    const owner = await signedInUser('owner');
    const stranger = await signedInUser('stranger');
    const orgId = await createOrg(owner);

    const res = await add(stranger, orgId, { email: newUser('nobody').email });
    expect(res.statusCode).toBe(404);
    expect(res.body.error.code).toBe('organization_not_found');
  });

  it('lets admins manage members but never owners', async () => {
    const owner = await signedInUser('owner');
    const admin = await signedInUser('admin');
    const member = await signedInUser('member');
    const orgId = await createOrg(owner);
    await add(owner, orgId, { userId: admin.userId, email: admin.email, role: 'admin' });

    const addOwner = await add(admin, orgId, {
      userId: member.userId,
      email: member.email,
      role: 'owner',
    });
    expect(addOwner.statusCode).toBe(403);

    const addMember = await add(admin, orgId, { userId: member.userId, email: member.email });
    expect(addMember.statusCode).toBe(201);

    expect((await changeRole(admin, orgId, owner.userId, 'member')).statusCode).toBe(403);
    expect((await remove(admin, orgId, owner.userId)).statusCode).toBe(403);
    expect((await changeRole(member, orgId, admin.userId, 'member')).statusCode).toBe(403);
    expect((await changeRole(admin, orgId, member.userId, 'admin')).statusCode).toBe(200);
  });

  it('never lets the last owner go, even by leaving', async () => {
    const owner = await signedInUser('owner');
    const orgId = await createOrg(owner);

    const demote = await changeRole(owner, orgId, owner.userId, 'admin');
    expect(demote.statusCode).toBe(409);
    expect(demote.body.error.code).toBe('last_owner');
    const leave = await remove(owner, orgId, owner.userId);
    expect(leave.statusCode).toBe(409);
  });

  it('keeps one owner when two owners demote each other at the same moment', async () => {
    const first = await signedInUser('owner1');
    const second = await signedInUser('owner2');
    const orgId = await createOrg(first);
    await add(first, orgId, { userId: second.userId, email: second.email, role: 'owner' });

    const results = await Promise.all([
      changeRole(first, orgId, second.userId, 'admin'),
      changeRole(second, orgId, first.userId, 'admin'),
    ]);
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes[0]).toBe(200);
    // The loser is refused either by the transaction (409: last owner) or, when it reads after
    // the winner's commit, because it is no longer an owner (403). Never both succeed.
    expect([403, 409]).toContain(codes[1]);

    const org = await invoke(
      orgs.getOrganization,
      apiEvent({ method: 'GET', path: '', params: { orgId }, ...first }),
    );
    const list = await invoke(
      members.listMembers,
      apiEvent({
        method: 'GET',
        path: '',
        params: { orgId },
        ...(org.statusCode === 200 ? first : second),
      }),
    );
    const owners = list.body.members.filter((m: { role: string }) => m.role === 'owner');
    expect(owners).toHaveLength(1);
  });

  it('lets a member leave and then hides the organization from them', async () => {
    const owner = await signedInUser('owner');
    const member = await signedInUser('member');
    const orgId = await createOrg(owner);
    await add(owner, orgId, { userId: member.userId, email: member.email });

    expect((await remove(member, orgId, member.userId)).statusCode).toBe(204);
    const res = await invoke(
      orgs.getOrganization,
      apiEvent({ method: 'GET', path: '', params: { orgId }, ...member }),
    );
    expect(res.statusCode).toBe(404);
  });

  it('paginates members with an opaque cursor and rejects a forged one', async () => {
    const owner = await signedInUser('owner');
    const orgId = await createOrg(owner);
    for (let i = 0; i < 4; i++) {
      const user = await signedInUser(`m${i}`);
      await add(owner, orgId, { userId: user.userId, email: user.email });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: Record<string, string> = { limit: '2' };
      if (cursor) query.cursor = cursor;
      const page = await invoke(
        members.listMembers,
        apiEvent({ method: 'GET', path: '', params: { orgId }, query, ...owner }),
      );
      expect(page.statusCode).toBe(200);
      seen.push(...page.body.members.map((m: { userId: string }) => m.userId));
      cursor = page.body.cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(5);

    const forged = Buffer.from(JSON.stringify({ pk: 'ORG#org_other123', sk: 'x' })).toString(
      'base64url',
    );
    const bad = await invoke(
      members.listMembers,
      apiEvent({ method: 'GET', path: '', params: { orgId }, query: { cursor: forged }, ...owner }),
    );
    expect(bad.statusCode).toBe(400);
  });

  it('rejects malformed JSON and schema violations with 4xx and writes nothing', async () => {
    const owner = await signedInUser('owner');
    const malformed = await invoke(
      orgs.createOrganization,
      apiEvent({ method: 'POST', path: '', rawBody: '{"name": ', ...owner }),
    );
    expect(malformed.statusCode).toBe(400);
    expect(malformed.body.error.code).toBe('invalid_json');

    const invalid = await invoke(
      orgs.createOrganization,
      apiEvent({ method: 'POST', path: '', body: { name: '' }, ...owner }),
    );
    expect(invalid.statusCode).toBe(422);
    expect(invalid.body.error.details[0].path).toBe('body.name');

    const mine = await invoke(
      orgs.listMyOrganizations,
      apiEvent({ method: 'GET', path: '/api/organizations', ...owner }),
    );
    expect(mine.body.organizations).toEqual([]);
  });

  it('refuses a body that is not sent as JSON with 415', async () => {
    const owner = await signedInUser('owner');
    const res = await invoke(
      orgs.createOrganization,
      apiEvent({
        method: 'POST',
        path: '',
        rawBody: 'name=Acme',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        ...owner,
      }),
    );
    expect(res.statusCode).toBe(415);
  });

  it('accepts a base64-encoded body as API Gateway may deliver it', async () => {
    const owner = await signedInUser('owner');
    const res = await invoke(
      orgs.createOrganization,
      apiEvent({ method: 'POST', path: '', body: { name: 'Ünïcode Org' }, base64: true, ...owner }),
    );
    expect(res.statusCode).toBe(201);
    expect(res.body.name).toBe('Ünïcode Org');
  });

  it('deletes an organization for its owner only', async () => {
    const owner = await signedInUser('owner');
    const admin = await signedInUser('admin');
    const orgId = await createOrg(owner);
    await add(owner, orgId, { userId: admin.userId, email: admin.email, role: 'admin' });

    const del = (actor: User) =>
      invoke(
        orgs.deleteOrganization,
        apiEvent({ method: 'DELETE', path: '', params: { orgId }, ...actor }),
      );
    expect((await del(admin)).statusCode).toBe(403);
    expect((await del(owner)).statusCode).toBe(204);
    expect((await del(owner)).statusCode).toBe(404);
    const mine = await invoke(
      orgs.listMyOrganizations,
      apiEvent({ method: 'GET', path: '/api/organizations', ...admin }),
    );
    expect(mine.body.organizations).toEqual([]);
  });
});

describe('user profiles (what lets others add a user by email)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('records the creator in the transaction that creates their organization', async () => {
    const creator = newUser('creator');
    await createOrg(creator);

    const owner = await signedInUser('owner');
    const orgId = await createOrg(owner);
    const added = await add(owner, orgId, { email: creator.email });
    expect(added.statusCode).toBe(201);
    expect(added.body.userId).toBe(creator.userId);
  });

  it('writes the profile on a list only when it is missing or the email changed', async () => {
    const user = newUser('lister');
    const send = vi.spyOn(documentClient, 'send');
    const profilePuts = () =>
      send.mock.calls.filter(([command]) => command instanceof PutCommand).length;

    await signIn(user);
    expect(profilePuts()).toBe(1);
    await signIn(user);
    expect(profilePuts()).toBe(1);

    const renamed = { ...user, email: `renamed-${user.email}` };
    await signIn(renamed);
    expect(profilePuts()).toBe(2);
    expect(await findUsersByEmail(renamed.email)).toEqual([renamed]);
    expect(await findUsersByEmail(user.email)).toEqual([]);
  });
});
