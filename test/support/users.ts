import { randomUUID } from 'node:crypto';
import { recordUserProfile } from '#data/users';

/** A fresh user identity for a test: unique id and email so test files never collide. */
export function newUser(label: string) {
  const id = randomUUID().slice(0, 8);
  return { userId: `user-${label}-${id}`, email: `${label}-${id}@example.com` };
}

/** A fresh user who has signed in once, so others can add them by id or email. */
export async function signedInUser(label: string) {
  const user = newUser(label);
  await recordUserProfile(user);
  return user;
}
