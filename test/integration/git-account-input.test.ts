import { describe, expect, it } from 'vitest';
import { linkGitAccount } from '#api/git-accounts';
import { apiEvent, invoke } from '#test/support/api-event';

describe('linking a Git account', () => {
  it.each([
    ['a line break (header injection)', 'ghp_demo_owner\r\nX-Injected: 1'],
    ['a space', 'ghp_demo owner'],
  ])('refuses a token with %s with 422, before calling the provider', async (_, token) => {
    const res = await invoke(
      linkGitAccount,
      apiEvent({
        method: 'PUT',
        path: '/api/users/me/git-accounts/github',
        params: { provider: 'github' },
        body: { token },
        userId: 'user-token-input',
      }),
    );
    expect(res.statusCode).toBe(422);
    expect(res.body.error.details[0].path).toBe('body.token');
  });

  it('lists every problem of path and body in one 422', async () => {
    const res = await invoke(
      linkGitAccount,
      apiEvent({
        method: 'PUT',
        path: '/api/users/me/git-accounts/bitbucket',
        params: { provider: 'bitbucket' },
        body: { token: 'x' },
        userId: 'user-token-input',
      }),
    );
    expect(res.statusCode).toBe(422);
    const paths = res.body.error.details.map((detail: { path: string }) => detail.path);
    expect(paths).toEqual(['path.provider', 'body.token']);
  });
});
