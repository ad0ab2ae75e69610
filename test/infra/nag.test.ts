import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { buildService } from '#lib/service';

/** The deployments an operator can make: dev and prod, with Cognito or an external issuer. */
const deployments: { name: string; context: Record<string, string> }[] = [
  { name: 'dev with Cognito', context: {} },
  { name: 'prod with Cognito', context: { stage: 'prod', alarmEmail: 'oncall@example.com' } },
  {
    name: 'prod with an external issuer',
    context: {
      stage: 'prod',
      jwtIssuer: 'https://auth.example.com/',
      jwtAudience: 'organizations-api',
      corsOrigins: 'https://app.example.com',
    },
  },
];

function buildApp(context: Record<string, string>): App {
  const app = new App({ context, builtinCloudFormationValidation: false });
  buildService(app, { packaging: 'placeholder' });
  return app;
}

/** Every acknowledged rule in the tree, as `rule id -> reason`, with where it was given. */
function acknowledgments(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id,
          reason,
        })),
      ),
  );
}

describe('cdk-nag AwsSolutions pack', () => {
  it.each(deployments)('reports no unacknowledged finding for $name', ({ context }) => {
    const app = buildApp(context);
    const report = new AwsSolutionsChecks(app).validateScope(app);
    const findings = report.violations.map(
      (violation) =>
        `${violation.ruleName}: ${violation.violatingResources
          .map((resource) => resource.constructPath)
          .join(', ')}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('acknowledges only these rules, each with a reason of its own', () => {
    const found = acknowledgments(buildApp({}));
    const ids = new Set(found.map((ack) => ack.id.replace(/^[^:]*::/, '')));
    expect([...ids].sort()).toEqual([
      'AwsSolutions-APIG4',
      'AwsSolutions-COG2',
      'AwsSolutions-COG8',
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-L1',
      'AwsSolutions-SMG4',
    ]);
    for (const ack of found) expect(ack.reason.length).toBeGreaterThan(40);
  });

  it('acknowledges missing authorization only on the three webhook routes', () => {
    const routes = acknowledgments(buildApp({}))
      .filter((ack) => ack.id.endsWith('AwsSolutions-APIG4'))
      .map((ack) => ack.path.split('/').at(-1));
    expect(routes.sort()).toEqual([
      'POST--webhooks--github',
      'POST--webhooks--gitlab',
      'POST--webhooks--stripe',
    ]);
  });

  it('requires MFA on the prod user pool, so COG2 is acknowledged in dev only', () => {
    const prodIds = acknowledgments(buildApp({ stage: 'prod' })).map((ack) => ack.id);
    expect(prodIds.some((id) => id.endsWith('AwsSolutions-COG2'))).toBe(false);
  });
});
