import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EventRule } from '#catalogue/events';
import type { RouteDefinition } from '#catalogue/routes';
import {
  applyEnvironment,
  configuredPorts,
  type LocalPorts,
  localEnvironment,
  localSettings,
  localStateDir,
} from '#local/config';
import {
  assertJava,
  freePort,
  JavaMissingError,
  type RunningDynamoDbLocal,
  startDynamoDbLocal,
} from '#local/dynamodb-local';
import { type EventBusOptions, type LocalEventBus, startEventBus } from '#local/event-bus';
import { startHttpServer } from '#local/http-server';

/**
 * `npm start`: the whole service on one machine, through the same Lambda handlers. Starts
 * DynamoDB Local (unless DYNAMODB_ENDPOINT names another), creates the table, starts the Stripe,
 * GitHub and GitLab stand-ins (unless a real base URL is configured), the EventBridge stand-in
 * and the HTTP API. `startLocalStack` starts the same stack in-process for tests and the demo.
 */
export interface LocalStackOptions {
  /** Explicit ports; the rest come from the environment (PORT, EVENT_BUS_PORT...) or defaults. */
  ports?: Partial<LocalPorts>;
  /** Pick free ports for everything not given in `ports` (tests, the demo runner). */
  freePorts?: boolean;
  /** DynamoDB Local data folder; in memory when absent. */
  dataDir?: string;
  /** Use this DynamoDB instead of starting DynamoDB Local (default: env DYNAMODB_ENDPOINT). */
  dynamoEndpoint?: string;
  routes?: RouteDefinition[];
  rules?: EventRule[];
  eventBus?: Omit<EventBusOptions, 'port' | 'rules'>;
  /** One line per started service and per API request. */
  log?: (line: string) => void;
}

type StandInName = 'stripe' | 'github' | 'gitlab';

export interface StartedService {
  service: string;
  url: string;
  note?: string;
}

export interface LocalStack {
  urls: {
    api: string;
    eventBus: string;
    dynamodb: string;
    stripe?: string;
    github?: string;
    gitlab?: string;
  };
  /** What was written into process.env for the handlers. */
  env: Record<string, string>;
  eventBus: LocalEventBus;
  /** The stand-in handles as their modules return them (e.g. GitHub's `revokeToken`). */
  standIns: Partial<Record<StandInName, unknown>>;
  services: StartedService[];
  stop: () => Promise<void>;
}

interface StandInHandle {
  url: string;
  close: () => unknown;
}

const standIns: Array<{ name: StandInName; label: string; file: string; start: string }> = [
  { name: 'stripe', label: 'Stripe', file: 'stand-ins/stripe.ts', start: 'startStripeStandIn' },
  { name: 'github', label: 'GitHub', file: 'stand-ins/github.ts', start: 'startGithubStandIn' },
  { name: 'gitlab', label: 'GitLab', file: 'stand-ins/gitlab.ts', start: 'startGitlabStandIn' },
];

const baseUrlVariable: Record<StandInName, string> = {
  stripe: 'STRIPE_API_BASE',
  github: 'GITHUB_API_BASE',
  gitlab: 'GITLAB_API_BASE',
};

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const log = options.log ?? (() => {});
  const ports = await choosePorts(options);
  const stops: Array<() => unknown> = [];
  const services: StartedService[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        console.error('local stack: stop failed', error);
      }
    }
    stops.length = 0;
  };

  try {
    const dynamodb = await startDatabase(options, ports.dynamodb);
    stops.push(dynamodb.stop);
    services.push({
      service: 'DynamoDB Local',
      url: dynamodb.endpoint,
      note: dynamodb.note,
    });
    await createTable(dynamodb.endpoint);
    log(`table ${localSettings.tableName} ready`);

    const standInUrls: Partial<Record<StandInName, string>> = {};
    const standInHandles: Partial<Record<StandInName, unknown>> = {};
    for (const standIn of standIns) {
      const realBase = process.env[baseUrlVariable[standIn.name]];
      if (realBase) {
        services.push({ service: `${standIn.label} API`, url: realBase, note: 'configured' });
        continue;
      }
      const handle = await startStandIn(standIn.file, standIn.start, ports[standIn.name]);
      if (!handle) {
        services.push({
          service: `${standIn.label} stand-in`,
          url: '-',
          note: `missing: local/${standIn.file} does not exist yet`,
        });
        continue;
      }
      stops.push(() => handle.close());
      standInUrls[standIn.name] = handle.url;
      standInHandles[standIn.name] = handle;
      services.push({ service: `${standIn.label} stand-in`, url: handle.url });
    }

    const eventBus = await startEventBus({
      ...options.eventBus,
      port: ports.eventBus,
      rules: options.rules,
    });
    stops.push(eventBus.close);
    services.push({ service: 'Event bus', url: eventBus.url, note: 'GET /_local/events' });

    // Before the HTTP server exists, so no handler module is imported with another config.
    const env = localEnvironment({
      dynamodb: dynamodb.endpoint,
      eventBus: eventBus.url,
      ...standInUrls,
    });
    applyEnvironment(env);

    const api = await startHttpServer({ port: ports.api, routes: options.routes, log });
    stops.push(api.close);
    services.unshift({ service: 'HTTP API', url: api.url });

    return {
      urls: {
        api: api.url,
        eventBus: eventBus.url,
        dynamodb: dynamodb.endpoint,
        stripe: env.STRIPE_API_BASE,
        github: env.GITHUB_API_BASE,
        gitlab: env.GITLAB_API_BASE,
      },
      env,
      eventBus,
      standIns: standInHandles,
      services,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function choosePorts(options: LocalStackOptions): Promise<LocalPorts> {
  const configured = configuredPorts();
  const ports = { ...configured, ...options.ports };
  if (!options.freePorts) return ports;
  for (const name of Object.keys(ports) as Array<keyof LocalPorts>) {
    if (options.ports?.[name] === undefined) ports[name] = await freePort();
  }
  return ports;
}

async function startDatabase(
  options: LocalStackOptions,
  port: number,
): Promise<Pick<RunningDynamoDbLocal, 'endpoint' | 'stop'> & { note: string }> {
  const existing = options.dynamoEndpoint ?? process.env.DYNAMODB_ENDPOINT;
  if (existing) return { endpoint: existing, stop: async () => {}, note: 'configured' };
  const running = await startDynamoDbLocal({ port, dataDir: options.dataDir });
  return { ...running, note: options.dataDir ? `data in ${options.dataDir}` : 'in memory' };
}

async function createTable(endpoint: string): Promise<void> {
  // Loaded here, not at the top, so the SDK's Node-version notice is silenced first.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { createServiceTable } = await import('#local/create-table');
  const client = new DynamoDBClient({
    endpoint,
    region: localSettings.region,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID || 'local',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || 'local',
    },
  });
  try {
    await createServiceTable(client, localSettings.tableName);
  } finally {
    client.destroy();
  }
}

/** Stand-ins are optional modules: a missing one is reported, not fatal. */
async function startStandIn(
  file: string,
  exportName: string,
  port: number,
): Promise<StandInHandle | undefined> {
  const absolute = path.join(import.meta.dirname, file);
  if (!existsSync(absolute)) return undefined;
  const module = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  const start = module[exportName];
  if (typeof start !== 'function') throw new Error(`local/${file} does not export ${exportName}`);
  return (await start({ port })) as StandInHandle;
}

async function assertPortFree(port: number, variable: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', () =>
      reject(new Error(`Port ${port} is in use; set ${variable} to use another port.`)),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

function printServices(services: StartedService[]): void {
  const width = Math.max(...services.map((s) => s.service.length)) + 2;
  const urlWidth = Math.max(...services.map((s) => s.url.length)) + 2;
  console.log('\nOrganizations service: local stack running\n');
  for (const { service, url, note } of services) {
    console.log(`  ${service.padEnd(width)}${url.padEnd(urlWidth)}${note ?? ''}`);
  }
  console.log(`
Mint a token:  TOKEN=$(npm run -s token -- user-1 user1@example.com)
Call the API:  curl -H "Authorization: Bearer $TOKEN" ${services[0]?.url}/api/organizations
Ctrl-C stops everything.
`);
}

async function main(): Promise<void> {
  const persist = process.argv.includes('--persist');
  const dataDir =
    process.env.LOCAL_DATA_DIR || (persist ? path.join(localStateDir, 'dynamodb') : undefined);
  const ports = configuredPorts();
  const startsDynamo = !process.env.DYNAMODB_ENDPOINT;

  try {
    if (startsDynamo) assertJava();
    const portVariables: Array<[number, string, boolean]> = [
      [ports.api, 'PORT', true],
      [ports.eventBus, 'EVENT_BUS_PORT', true],
      [ports.dynamodb, 'DYNAMODB_PORT', startsDynamo],
      [ports.stripe, 'STRIPE_PORT', !process.env.STRIPE_API_BASE],
      [ports.github, 'GITHUB_PORT', !process.env.GITHUB_API_BASE],
      [ports.gitlab, 'GITLAB_PORT', !process.env.GITLAB_API_BASE],
    ];
    for (const [port, variable, used] of portVariables) {
      if (used) await assertPortFree(port, variable);
    }
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }

  console.log('Starting the local stack...');
  let stack: LocalStack;
  try {
    stack = await startLocalStack({ dataDir, log: (line) => console.log(line) });
  } catch (error) {
    console.error(error instanceof JavaMissingError ? error.message : error);
    process.exit(1);
  }
  printServices(stack.services);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(`\n${signal}: stopping the local stack...`);
    await stack.stop();
    console.log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
  // Whoever started us (npm, an IDE, a process manager) may die without passing a signal on:
  // then we are re-parented, and stop rather than keep the ports and DynamoDB Local.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void shutdown('parent exited');
  }, 1000).unref();
  process.on('uncaughtException', (error) => {
    console.error('local stack: uncaught error, stopping', error);
    void stack.stop().finally(() => process.exit(1));
  });
}

const invokedDirectly =
  process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (invokedDirectly) await main();
