import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The local stack's environment. Every value can be overridden from the real environment; with
 * real keys and base URLs configured, the handlers talk to the real services instead of the
 * stand-ins. Endpoints of what the stack itself starts (DynamoDB Local, the event bus) are filled
 * in by `local/start.ts` once those are listening.
 */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Git-ignored folder for local state: the JWT signing key, the encryption key, data. */
export const localStateDir = env('LOCAL_STATE_DIR', path.join(repoRoot, '.local'));

export interface LocalPorts {
  api: number;
  eventBus: number;
  stripe: number;
  github: number;
  gitlab: number;
  dynamodb: number;
}

export function configuredPorts(): LocalPorts {
  return {
    api: intEnv('PORT', 3000),
    eventBus: intEnv('EVENT_BUS_PORT', 4010),
    stripe: intEnv('STRIPE_PORT', 4020),
    github: intEnv('GITHUB_PORT', 4030),
    gitlab: intEnv('GITLAB_PORT', 4040),
    dynamodb: intEnv('DYNAMODB_PORT', 8000),
  };
}

/** Secrets the demo needs too, so it signs webhooks exactly as the server verifies them. */
export const localSecrets = {
  stripeSecretKey: env('STRIPE_SECRET_KEY', 'sk_test_local'),
  stripeWebhookSecret: env('STRIPE_WEBHOOK_SECRET', 'whsec_local_organizations_service'),
  githubWebhookSecret: env('GITHUB_WEBHOOK_SECRET', 'github-webhook-secret-local'),
  gitlabWebhookToken: env('GITLAB_WEBHOOK_TOKEN', 'gitlab-webhook-token-local'),
};

export const localSettings = {
  tableName: env('TABLE_NAME', 'organizations-local'),
  eventBusName: env('EVENT_BUS_NAME', 'organizations-local'),
  region: env('AWS_REGION', 'us-east-1'),
  agentMention: env('AGENT_MENTION', '@openhands-agent'),
};

/** Where the stack's services listen, once started. */
export interface LocalEndpoints {
  dynamodb: string;
  eventBus: string;
  /** Stand-in URLs; absent when the stand-in did not start. */
  stripe?: string;
  github?: string;
  gitlab?: string;
}

/** The environment the handlers and consumers read at module load. */
export function localEnvironment(endpoints: LocalEndpoints): Record<string, string> {
  const values: Record<string, string> = {
    TABLE_NAME: localSettings.tableName,
    DYNAMODB_ENDPOINT: endpoints.dynamodb,
    EVENTS_ENDPOINT: endpoints.eventBus,
    EVENT_BUS_NAME: localSettings.eventBusName,
    AWS_REGION: localSettings.region,
    AWS_ACCESS_KEY_ID: env('AWS_ACCESS_KEY_ID', 'local'),
    AWS_SECRET_ACCESS_KEY: env('AWS_SECRET_ACCESS_KEY', 'local'),
    TOKEN_ENCRYPTION_KEY: tokenEncryptionKey(),
    STRIPE_SECRET_KEY: localSecrets.stripeSecretKey,
    STRIPE_WEBHOOK_SECRET: localSecrets.stripeWebhookSecret,
    GITHUB_WEBHOOK_SECRET: localSecrets.githubWebhookSecret,
    GITLAB_WEBHOOK_TOKEN: localSecrets.gitlabWebhookToken,
    AGENT_MENTION: localSettings.agentMention,
    AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // CloudWatch metrics are log lines (EMF) in AWS; locally they would only fill the console.
    POWERTOOLS_METRICS_DISABLED: env('POWERTOOLS_METRICS_DISABLED', 'true'),
  };
  // A base URL set in the environment wins: that is how the real services are selected.
  const bases = {
    STRIPE_API_BASE: endpoints.stripe,
    GITHUB_API_BASE: endpoints.github,
    GITLAB_API_BASE: endpoints.gitlab,
  };
  for (const [name, standIn] of Object.entries(bases)) {
    const value = process.env[name] || standIn;
    if (value) values[name] = value;
  }
  return values;
}

/** Writes the local environment into process.env; call before any handler module is imported. */
export function applyEnvironment(values: Record<string, string>): void {
  Object.assign(process.env, values);
}

/**
 * The AES-256-GCM key for stored secrets. Generated once and kept in `.local/` so data written
 * by a persistent DynamoDB Local still decrypts after a restart.
 */
export function tokenEncryptionKey(): string {
  const configured = process.env.TOKEN_ENCRYPTION_KEY;
  if (configured) return configured;
  return readOrCreateStateFile('token-encryption-key', () => randomBytes(32).toString('base64'));
}

/**
 * Reads a file from `.local/`, creating it with `create()` first if needed. The exclusive create
 * makes concurrent first runs (`npm start` and `npm run token`) agree on one value.
 */
export function readOrCreateStateFile(name: string, create: () => string): string {
  const file = path.join(localStateDir, name);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(localStateDir, { recursive: true });
  try {
    writeFileSync(file, `${create()}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readFileSync(file, 'utf8').trim();
}

function env(name: string, fallback: string): string {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : value;
}

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new Error(`${name} must be a port number, got "${raw}"`);
  }
  return value;
}
