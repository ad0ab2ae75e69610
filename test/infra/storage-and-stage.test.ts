import { beforeAll, describe, expect, it } from 'vitest';
import { routes } from '#catalogue/routes';
import { tableDefinition } from '#catalogue/table';
import {
  functionsById,
  resourcesOfType,
  type SynthesizedService,
  synthesizeService,
} from '#test/infra/synth';

let dev: SynthesizedService;
let prod: SynthesizedService;

beforeAll(() => {
  dev = synthesizeService();
  prod = synthesizeService({
    stage: 'prod',
    jwtIssuer: 'https://auth.example.com/',
    jwtAudience: 'organizations-api',
    corsOrigins: 'https://app.example.com, https://admin.example.com',
    checkoutSuccessUrl: 'https://app.example.com/credits/done?session_id={CHECKOUT_SESSION_ID}',
    checkoutCancelUrl: 'https://app.example.com/credits',
    apiRateLimit: '20',
    apiBurstLimit: '40',
  });
});

function table(service: SynthesizedService) {
  const tables = Object.values(resourcesOfType(service.storage, 'AWS::DynamoDB::Table'));
  expect(tables).toHaveLength(1);
  return tables[0] as unknown as { Properties: Record<string, unknown>; DeletionPolicy: string };
}

describe('single table', () => {
  it('has string pk/sk, the gsi1 index, on-demand billing, PITR and the TTL attribute', () => {
    const { Properties } = table(dev);
    expect(Properties.KeySchema).toEqual([
      { AttributeName: tableDefinition.partitionKey, KeyType: 'HASH' },
      { AttributeName: tableDefinition.sortKey, KeyType: 'RANGE' },
    ]);
    expect(Properties.AttributeDefinitions).toEqual(
      expect.arrayContaining(
        ['pk', 'sk', 'gsi1pk', 'gsi1sk'].map((name) => ({
          AttributeName: name,
          AttributeType: 'S',
        })),
      ),
    );
    expect(Properties.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'gsi1',
        KeySchema: [
          { AttributeName: 'gsi1pk', KeyType: 'HASH' },
          { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
    expect(Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Properties.PointInTimeRecoverySpecification).toEqual({
      PointInTimeRecoveryEnabled: true,
    });
    expect(Properties.TimeToLiveSpecification).toEqual({
      AttributeName: 'expiresAt',
      Enabled: true,
    });
  });
});

describe('stage switch', () => {
  it('destroys the dev table and retains the prod table with deletion protection', () => {
    expect(table(dev).DeletionPolicy).toBe('Delete');
    expect(table(dev).Properties.DeletionProtectionEnabled).toBe(false);
    expect(table(prod).DeletionPolicy).toBe('Retain');
    expect(table(prod).Properties.DeletionProtectionEnabled).toBe(true);
  });

  it('keeps prod logs six months at INFO and dev logs one week at DEBUG', () => {
    for (const [service, days, level] of [
      [dev, 7, 'DEBUG'],
      [prod, 180, 'INFO'],
    ] as const) {
      const groups = Object.values(resourcesOfType(service.api, 'AWS::Logs::LogGroup'));
      expect(new Set(groups.map((group) => group.Properties.RetentionInDays))).toEqual(
        new Set([days]),
      );
      const functions = Object.values(resourcesOfType(service.api, 'AWS::Lambda::Function'));
      for (const fn of functions) {
        expect(fn.Properties.LoggingConfig).toMatchObject({ ApplicationLogLevel: level });
      }
    }
  });

  it('retains the token encryption key in prod', () => {
    const keys = Object.values(resourcesOfType(prod.api, 'AWS::KMS::Key')) as unknown as {
      DeletionPolicy: string;
    }[];
    expect(keys.map((key) => key.DeletionPolicy)).toEqual(['Retain']);
  });

  it('retains secrets in prod', () => {
    const secrets = Object.values(
      resourcesOfType(prod.api, 'AWS::SecretsManager::Secret'),
    ) as unknown as { DeletionPolicy: string }[];
    expect(secrets.map((secret) => secret.DeletionPolicy)).toEqual(Array(4).fill('Retain'));
  });

  it('uses the configured JWT issuer and audience instead of creating a user pool', () => {
    prod.api.resourceCountIs('AWS::Cognito::UserPool', 0);
    prod.api.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://auth.example.com/', Audience: ['organizations-api'] },
    });
  });

  it('allows CORS only from the configured origins', () => {
    prod.api.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: {
        AllowOrigins: ['https://app.example.com', 'https://admin.example.com'],
      },
    });
  });

  it('gives the checkout redirect URLs only to the functions that call Stripe', () => {
    const callsStripe = new Set(routes.filter((route) => route.access.stripe).map((r) => r.id));
    expect([...callsStripe].sort()).toEqual(['createCheckout', 'stripeWebhook']);
    for (const [id, fn] of functionsById(prod.api)) {
      const variables = fn.properties.Environment.Variables;
      if (callsStripe.has(id)) {
        expect(variables).toMatchObject({
          CHECKOUT_SUCCESS_URL:
            'https://app.example.com/credits/done?session_id={CHECKOUT_SESSION_ID}',
          CHECKOUT_CANCEL_URL: 'https://app.example.com/credits',
        });
      } else {
        expect(Object.keys(variables).filter((name) => name.startsWith('CHECKOUT_'))).toEqual([]);
      }
    }
  });

  it('throttles the API at the configured rate', () => {
    prod.api.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
    });
  });
});
