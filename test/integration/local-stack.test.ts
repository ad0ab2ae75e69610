import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '#local/config';
import { freePort } from '#local/dynamodb-local';
import { mintToken } from '#local/jwt';
import { type LocalStack, startLocalStack } from '#local/start';

/**
 * The whole local stack in-process (on free ports, sharing the test run's DynamoDB Local), and
 * `npm start` itself as a child process: startup, Ctrl-C, and the missing-java message.
 */
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ freePorts: true });
});

afterAll(async () => {
  await stack?.stop();
});

describe('startLocalStack', () => {
  it('answers 404 for an unknown route and 401 for a JWT route without a token', async () => {
    const unknown = await fetch(`${stack.urls.api}/api/unknown`);
    const anonymous = await fetch(`${stack.urls.api}/api/organizations`);

    expect([unknown.status, anonymous.status]).toEqual([404, 401]);
    expect(await anonymous.json()).toEqual({ message: 'Unauthorized' });
  });

  it('serves the real handlers: an organization created with a minted token is listed', async () => {
    const userId = `user-${Date.now()}`;
    const token = await mintToken(userId, `${userId}@example.com`);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    const created = await fetch(`${stack.urls.api}/api/organizations`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'Local stack org' }),
    });
    const listed = await fetch(`${stack.urls.api}/api/organizations`, { headers });

    expect(created.status).toBe(201);
    const { orgId } = (await created.json()) as { orgId: string };
    const { organizations } = (await listed.json()) as {
      organizations: Array<{ orgId: string; role: string }>;
    };
    expect(organizations.map((o) => [o.orgId, o.role])).toEqual([[orgId, 'owner']]);
  });

  it('points the handlers at its bus, which matches events to the catalogue rules', async () => {
    const { publishEvents, event } = await import('#platform/events');
    const eventId = `evt-${Date.now()}`;

    await publishEvents([
      event('CreditPurchasePaid', {
        eventId,
        orgId: 'org_localstacktest',
        checkoutSessionId: 'cs_test_local_stack',
        amountMicros: 10_000_000,
        currency: 'usd',
        amountMinor: 1000,
        stripeEventId: eventId,
        occurredAt: new Date().toISOString(),
      }),
    ]);

    const logged = stack.eventBus
      .events()
      .filter((l) => (l.event.detail as { eventId?: string }).eventId === eventId);
    expect(logged.map((l) => [l.eventBusName, l.event.source, l.rules])).toEqual([
      [process.env.EVENT_BUS_NAME, 'payments', ['CreditLedger']],
    ]);
    await stack.eventBus.waitForIdle(10_000);
  });

  it('points the provider base URLs at the stand-ins it started', () => {
    expect(process.env.STRIPE_API_BASE).toBe(stack.urls.stripe);
    expect(process.env.GITHUB_API_BASE).toBe(stack.urls.github);
    expect(process.env.GITLAB_API_BASE).toBe(stack.urls.gitlab);
    expect(stack.urls.stripe).toMatch(/^http:\/\/(127\.0\.0\.1|localhost):\d+/);
  });
});

/** `npm start` as a user runs it, with the test run's variables removed. */
function startScript(env: Record<string, string>): ChildProcess {
  const inherited = { ...process.env };
  for (const name of [
    'TABLE_NAME',
    'DYNAMODB_ENDPOINT',
    'EVENTS_ENDPOINT',
    'EVENT_BUS_NAME',
    'STRIPE_API_BASE',
    'GITHUB_API_BASE',
    'GITLAB_API_BASE',
  ]) {
    delete inherited[name];
  }
  const tsx = path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  return spawn(process.execPath, [tsx, 'local/start.ts'], {
    cwd: repoRoot,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function collect(child: ChildProcess) {
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk) => {
    output.stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output.stderr += chunk;
  });
  return output;
}

function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('npm start', () => {
  it('starts everything, serves the API and stops it all, DynamoDB Local included, on Ctrl-C', async () => {
    const ports = {
      PORT: await freePort(),
      EVENT_BUS_PORT: await freePort(),
      STRIPE_PORT: await freePort(),
      GITHUB_PORT: await freePort(),
      GITLAB_PORT: await freePort(),
      DYNAMODB_PORT: await freePort(),
    };
    const child = startScript(
      Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, `${v}`])),
    );
    const output = collect(child);

    await until(() => output.stdout.includes('Ctrl-C stops everything'), 25_000);
    const unknown = await fetch(`http://localhost:${ports.PORT}/api/unknown`);
    child.kill('SIGINT');
    const code = await exitCode(child);

    expect(unknown.status).toBe(404);
    expect(output.stdout).toContain(`HTTP API         http://localhost:${ports.PORT}`);
    expect(code).toBe(0);
    await expect(fetch(`http://127.0.0.1:${ports.DYNAMODB_PORT}`)).rejects.toThrow();
  }, 45_000);

  it('says in one line how to install java when it is missing, and exits 1', async () => {
    const emptyPath = mkdtempSync(path.join(tmpdir(), 'no-java-'));
    const child = startScript({ PATH: emptyPath, DYNAMODB_PORT: `${await freePort()}` });
    const output = collect(child);

    const code = await exitCode(child);

    expect(code).toBe(1);
    expect(output.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^DynamoDB Local needs Java 17 .*apt-get install .*brew install/),
    ]);
  });
});
