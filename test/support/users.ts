import { randomUUID } from 'node:crypto';

/** A fresh user identity for a test: unique id and email so test files never collide. */
export function newUser(label: string) {
  const id = randomUUID().slice(0, 8);
  return { userId: `user-${label}-${id}`, email: `${label}-${id}@example.com` };
}
