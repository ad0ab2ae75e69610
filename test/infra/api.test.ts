import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { type RouteAccess, resolverFunction, routes } from '#catalogue/routes';
import { secretCatalogue } from '#lib/constructs/service-secrets';
import {
  actionsOf,
  type FunctionResource,
  functionsById,
  resourcesOfType,
  roleStatements,
  type SynthesizedService,
  synthesizeService,
} from '#test/infra/synth';

let service: SynthesizedService;
let functions: Map<string, FunctionResource>;

beforeAll(() => {
  service = synthesizeService();
  functions = functionsById(service.api);
});

const expectedAuthorization = { jwt: 'JWT', webhook: 'NONE', iam: 'AWS_IAM' } as const;

function functionOf(id: string): FunctionResource {
  const fn = functions.get(id);
  if (!fn) throw new Error(`no function for ${id}`);
  return fn;
}

function routeResource(routeKey: string) {
  const matches = Object.values(resourcesOfType(service.api, 'AWS::ApiGatewayV2::Route')).filter(
    (route) => route.Properties.RouteKey === routeKey,
  );
  expect(matches).toHaveLength(1);
  return matches[0]?.Properties ?? {};
}

describe('HTTP API routes', () => {
  it('has exactly one route per catalogue entry and nothing else', () => {
    const routeKeys = Object.values(resourcesOfType(service.api, 'AWS::ApiGatewayV2::Route'))
      .map((route) => route.Properties.RouteKey)
      .sort();
    expect(routeKeys).toEqual(routes.map((route) => `${route.method} ${route.path}`).sort());
  });

  it.each(routes)('$method $path uses the $auth authorizer', (route) => {
    const properties = routeResource(`${route.method} ${route.path}`);
    expect(properties.AuthorizationType).toBe(expectedAuthorization[route.auth]);
    if (route.auth === 'jwt') expect(properties.AuthorizerId).toBeDefined();
    else expect(properties.AuthorizerId).toBeUndefined();
  });

  it.each(routes)('$method $path invokes its own function at index.$handler', (route) => {
    const fn = functionOf(route.id);
    expect(fn.properties.Handler).toBe(`index.${route.handler}`);

    const target = routeResource(`${route.method} ${route.path}`).Target as {
      'Fn::Join': [string, [string, { Ref: string }]];
    };
    const integrationId = target['Fn::Join'][1][1].Ref;
    const integration = resourcesOfType(service.api, 'AWS::ApiGatewayV2::Integration')[
      integrationId
    ];
    expect(integration?.Properties.IntegrationUri).toEqual({
      'Fn::GetAtt': [fn.logicalId, 'Arn'],
    });
  });

  it('authorizes user routes with a Cognito user pool JWT when no issuer is configured', () => {
    service.api.resourceCountIs('AWS::Cognito::UserPool', 1);
    service.api.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: [{ Ref: Match.stringLikeRegexp('UserPoolClient') }],
        Issuer: Match.anyValue(),
      },
    });
  });

  it('throttles the default stage and writes access logs', () => {
    service.api.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
    });
  });

  it('configures no CORS when no origins are given', () => {
    service.api.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.absent(),
    });
  });
});

describe('function defaults', () => {
  it('runs every function (routes and direct resolver) on Node.js 22, arm64, traced', () => {
    expect(functions.size).toBe(routes.length + 1);
    for (const fn of functions.values()) {
      expect(fn.properties.Runtime).toBe('nodejs22.x');
      expect(fn.properties.Architectures).toEqual(['arm64']);
      expect(fn.properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(fn.properties.LoggingConfig?.LogFormat).toBe('JSON');
    }
  });

  it('gives every function the table and bus names', () => {
    for (const fn of functions.values()) {
      expect(Object.keys(fn.properties.Environment.Variables)).toEqual(
        expect.arrayContaining(['TABLE_NAME', 'EVENT_BUS_NAME']),
      );
    }
  });

  it('keeps dev logs for one week', () => {
    for (const group of Object.values(resourcesOfType(service.api, 'AWS::Logs::LogGroup'))) {
      expect(group.Properties.RetentionInDays).toBe(7);
    }
  });
});

describe('least-privilege grants', () => {
  const all: { id: string; access: RouteAccess }[] = [...routes, resolverFunction];

  it.each(all)('$id is granted only what its access declares', ({ id, access }) => {
    const statements = roleStatements(service.api, functionOf(id));
    const actions = actionsOf(statements);

    expect(actions.some((action) => action.includes('*'))).toBe(false);
    expect(actions.includes('dynamodb:GetItem')).toBe(access.table !== undefined);
    expect(actions.includes('dynamodb:PutItem')).toBe(access.table === 'readwrite');
    expect(actions.includes('dynamodb:UpdateItem')).toBe(access.table === 'readwrite');
    expect(actions.includes('events:PutEvents')).toBe(access.publishes === true);

    const allowed = new Set([
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
      'dynamodb:GetItem',
      'dynamodb:Scan',
      'dynamodb:ConditionCheckItem',
      'dynamodb:DescribeTable',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:BatchWriteItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'events:PutEvents',
      'secretsmanager:GetSecretValue',
    ]);
    expect(actions.filter((action) => !allowed.has(action))).toEqual([]);
  });

  it.each(all)('$id reads exactly the secrets its access needs', ({ id, access }) => {
    const fn = functionOf(id);
    const expected: string[] = [];
    if (access.stripe) expected.push(secretCatalogue.stripeSecretKey.arnEnv);
    if (access.webhookSecret === 'stripe') {
      expected.push(secretCatalogue.stripeWebhookSecret.arnEnv);
    }
    if (access.webhookSecret === 'github') {
      expected.push(secretCatalogue.githubWebhookSecret.arnEnv);
    }
    if (access.webhookSecret === 'gitlab') expected.push(secretCatalogue.gitlabWebhookToken.arnEnv);
    if (access.encryption) expected.push(secretCatalogue.tokenEncryptionKey.arnEnv);

    const variables = fn.properties.Environment.Variables;
    const secretEnv = Object.keys(variables).filter((name) => name.endsWith('_ARN'));
    expect(secretEnv.sort()).toEqual(expected.sort());

    const secretStatements = roleStatements(service.api, fn).filter((statement) =>
      actionsOf([statement]).some((action) => action.startsWith('secretsmanager:')),
    );
    const grantedSecrets = secretStatements.flatMap((statement) =>
      Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource],
    );
    expect(actionsOf(secretStatements).every((a) => a === 'secretsmanager:GetSecretValue')).toBe(
      true,
    );
    expect(grantedSecrets).toEqual(expect.arrayContaining(expected.map((n) => variables[n])));
    expect(grantedSecrets).toHaveLength(expected.length);
  });

  it('creates the five secrets without a value in the template', () => {
    const secrets = resourcesOfType(service.api, 'AWS::SecretsManager::Secret');
    expect(Object.keys(secrets)).toHaveLength(5);
    for (const secret of Object.values(secrets)) {
      expect(secret.Properties.SecretString).toBeUndefined();
    }
  });
});

describe('internal resolver access', () => {
  it('outputs the internal resolve URL and the resolver function ARN', () => {
    const outputs = service.api.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.InternalResolveUrl?.Value)).toContain('/internal/resolve');
    expect(outputs.ResolverFunctionArn?.Value).toEqual({
      'Fn::GetAtt': [functionOf(resolverFunction.id).logicalId, 'Arn'],
    });
  });

  it('grants a principal execute-api on the internal route and invoke on the resolver', () => {
    const statements = Object.values(
      resourcesOfType(service.resolverCaller, 'AWS::IAM::Policy'),
    ).flatMap(
      (policy) =>
        (policy.Properties.PolicyDocument as { Statement: { Action: string; Resource: unknown }[] })
          .Statement,
    );
    expect(statements.map((statement) => statement.Action).sort()).toEqual([
      'execute-api:Invoke',
      'lambda:InvokeFunction',
    ]);
    const invokeApi = statements.find((statement) => statement.Action === 'execute-api:Invoke');
    expect(JSON.stringify(invokeApi?.Resource)).toContain('/POST/internal/resolve');
  });
});
