import { type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { RouteAccess } from '#catalogue/routes';

/** Each secret, the environment variable that carries its ARN, and what it holds. */
export const secretCatalogue = {
  stripeSecretKey: { arnEnv: 'STRIPE_SECRET_KEY_ARN', holds: 'Stripe secret API key (sk_...)' },
  stripeWebhookSecret: {
    arnEnv: 'STRIPE_WEBHOOK_SECRET_ARN',
    holds: 'Stripe webhook signing secret (whsec_...)',
  },
  githubWebhookSecret: { arnEnv: 'GITHUB_WEBHOOK_SECRET_ARN', holds: 'GitHub webhook secret' },
  gitlabWebhookToken: { arnEnv: 'GITLAB_WEBHOOK_TOKEN_ARN', holds: 'GitLab webhook secret token' },
} as const;

export type SecretName = keyof typeof secretCatalogue;

/** The secrets a function's declared access needs, and nothing else. */
export function secretsNeededBy(access: RouteAccess): SecretName[] {
  const needed: SecretName[] = [];
  if (access.stripe) needed.push('stripeSecretKey');
  if (access.webhookSecret === 'stripe') needed.push('stripeWebhookSecret');
  if (access.webhookSecret === 'github') needed.push('githubWebhookSecret');
  if (access.webhookSecret === 'gitlab') needed.push('gitlabWebhookToken');
  return needed;
}

export interface ServiceSecretsProps {
  removalPolicy: RemovalPolicy;
}

/**
 * The service's Secrets Manager secrets. The stack creates them without a usable value
 * (CloudFormation fills a random placeholder); the operator puts the real values after deploying,
 * so no secret ever appears in the template. Stored API keys and Git tokens are encrypted with
 * the stack's KMS key, not with a key kept here.
 */
export class ServiceSecrets extends Construct {
  readonly secrets: Record<SecretName, Secret>;

  constructor(scope: Construct, id: string, props: ServiceSecretsProps) {
    super(scope, id);
    const create = (name: SecretName) => {
      const secret = new Secret(this, name, { description: secretCatalogue[name].holds });
      secret.applyRemovalPolicy(props.removalPolicy);
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Issued by Stripe, GitHub or GitLab: a Lambda cannot rotate it; the operator rolls it ' +
          "in the provider's dashboard and puts the new value (README, Deploy).",
      });
      return secret;
    };
    this.secrets = {
      stripeSecretKey: create('stripeSecretKey'),
      stripeWebhookSecret: create('stripeWebhookSecret'),
      githubWebhookSecret: create('githubWebhookSecret'),
      gitlabWebhookToken: create('gitlabWebhookToken'),
    };
  }
}
