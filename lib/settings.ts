import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';

/**
 * Everything a deployment can vary, read once from CDK context (`cdk.json` or `-c name=value`)
 * and passed to the stacks as typed props. Stacks never read context themselves.
 */
export type Stage = 'dev' | 'prod';

export interface ServiceSettings {
  stage: Stage;
  /** RETAIN keeps the table, token key, secrets, user pool and logs on stack deletion (prod). */
  removalPolicy: RemovalPolicy;
  /** DynamoDB deletion protection (prod). */
  deletionProtection: boolean;
  logRetention: RetentionDays;
  /** Application log level of every function (Lambda JSON logging and Powertools). */
  logLevel: 'DEBUG' | 'INFO';
  /** External JWT issuer and audience; both absent: the API stack creates a Cognito user pool. */
  jwt?: { issuer: string; audience: string[] };
  /** Browser origins allowed by CORS; empty: no CORS preflight is configured at all. */
  corsOrigins: string[];
  /** Steady-state requests per second and burst for the whole HTTP API. */
  throttle: { rateLimit: number; burstLimit: number };
  /** Where alarm notifications are emailed; absent: alarms publish to the topic only. */
  alarmEmail?: string;
  /** Stripe Checkout redirect URLs, given to functions that call Stripe (only when set). */
  checkoutEnvironment: Record<string, string>;
  /** The mention that asks for the agent, given to Git webhook functions (only when set). */
  gitWebhookEnvironment: Record<string, string>;
}

export const contextKeys = {
  stage: 'stage',
  jwtIssuer: 'jwtIssuer',
  jwtAudience: 'jwtAudience',
  corsOrigins: 'corsOrigins',
  apiRateLimit: 'apiRateLimit',
  apiBurstLimit: 'apiBurstLimit',
  alarmEmail: 'alarmEmail',
  checkoutSuccessUrl: 'checkoutSuccessUrl',
  checkoutCancelUrl: 'checkoutCancelUrl',
  agentMention: 'agentMention',
} as const;

export function readServiceSettings(node: Node): ServiceSettings {
  const stage = readStage(node.tryGetContext(contextKeys.stage));
  const prod = stage === 'prod';
  const issuer = optionalString(node, contextKeys.jwtIssuer);
  const audience = optionalString(node, contextKeys.jwtAudience);
  if ((issuer === undefined) !== (audience === undefined)) {
    throw new Error('Set both jwtIssuer and jwtAudience context values, or neither.');
  }

  return {
    stage,
    removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    deletionProtection: prod,
    logRetention: prod ? RetentionDays.SIX_MONTHS : RetentionDays.ONE_WEEK,
    logLevel: prod ? 'INFO' : 'DEBUG',
    jwt: issuer && audience ? { issuer, audience: splitList(audience) } : undefined,
    corsOrigins: splitList(optionalString(node, contextKeys.corsOrigins) ?? ''),
    throttle: {
      rateLimit: optionalNumber(node, contextKeys.apiRateLimit) ?? 50,
      burstLimit: optionalNumber(node, contextKeys.apiBurstLimit) ?? 100,
    },
    alarmEmail: optionalString(node, contextKeys.alarmEmail),
    checkoutEnvironment: definedOnly({
      CHECKOUT_SUCCESS_URL: optionalString(node, contextKeys.checkoutSuccessUrl),
      CHECKOUT_CANCEL_URL: optionalString(node, contextKeys.checkoutCancelUrl),
    }),
    gitWebhookEnvironment: definedOnly({
      AGENT_MENTION: optionalString(node, contextKeys.agentMention),
    }),
  };
}

/** How long a consumer may run; queues derive their visibility timeout from it. */
export const consumerTimeout = Duration.seconds(30);
export const apiTimeout = Duration.seconds(10);

function readStage(value: unknown): Stage {
  if (value === undefined || value === 'dev') return 'dev';
  if (value === 'prod') return 'prod';
  throw new Error(`Unknown stage "${String(value)}": use -c stage=dev or -c stage=prod.`);
}

function optionalString(node: Node, key: string): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
}

function optionalNumber(node: Node, key: string): number | undefined {
  const raw = optionalString(node, key);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`Context value ${key} must be a positive integer, got "${raw}".`);
  }
  return value;
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function definedOnly(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
