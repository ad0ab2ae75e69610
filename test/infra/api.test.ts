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

const all: { id: string; access: RouteAccess }[] = [...routes, resolverFunction];

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
  const readActions = ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'];
  const writeActions = [
    'dynamodb:BatchWriteItem',
    'dynamodb:ConditionCheckItem',
    'dynamodb:DeleteItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
  ];

  it.each(all)('$id is granted only what its access declares', ({ id, access }) => {
    const statements = roleStatements(service.api, functionOf(id));
    const actions = actionsOf(statements);

    expect(actions.some((action) => action.includes('*'))).toBe(false);
    const expectedTable =
      access.table === undefined
        ? []
        : access.table === 'read'
          ? readActions
          : [...readActions, ...writeActions];
    expect([...new Set(actions.filter((a) => a.startsWith('dynamodb:')))].sort()).toEqual(
      expectedTable.sort(),
    );
    expect(actions.includes('events:PutEvents')).toBe(access.publishes === true);
    expect(actions.filter((action) => action.startsWith('kms:')).sort()).toEqual(
      access.encryption ? ['kms:Decrypt', 'kms:Encrypt'] : [],
    );

    const allowed = new Set([
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      ...readActions,
      ...writeActions,
      'events:PutEvents',
      'secretsmanager:GetSecretValue',
      'kms:Encrypt',
      'kms:Decrypt',
    ]);
    expect(actions.filter((action) => !allowed.has(action))).toEqual([]);
  });

  it.each(all.filter((fn) => fn.access.table !== undefined))(
    '$id queries the table and its gsi1 index by ARN, never index/*',
    ({ id }) => {
      const statements = roleStatements(service.api, functionOf(id)).filter((statement) =>
        actionsOf([statement]).some((action) => action.startsWith('dynamodb:')),
      );
      const resources = statements.flatMap((statement) =>
        Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource],
      );
      expect(resources).toHaveLength(2);
      expect(JSON.stringify(resources)).toContain('/index/gsi1"');
      expect(JSON.stringify(resources)).not.toContain('*');
      const indexStatement = statements.find((statement) =>
        JSON.stringify(statement.Resource).includes('/index/'),
      );
      expect(indexStatement?.Action).toBe('dynamodb:Query');
    },
  );

  it('uses no AWS managed policy: each role writes logs to its own log group only', () => {
    for (const fn of functions.values()) {
      const roleId = fn.properties.Role['Fn::GetAtt'][0];
      const role = resourcesOfType(service.api, 'AWS::IAM::Role')[roleId];
      expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
      const logStatement = roleStatements(service.api, fn).find((statement) =>
        actionsOf([statement]).includes('logs:PutLogEvents'),
      );
      const logGroup = fn.properties.LoggingConfig?.LogGroup as { Ref: string };
      expect(logStatement?.Resource).toEqual({ 'Fn::GetAtt': [logGroup.Ref, 'Arn'] });
    }
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

    const variables = fn.properties.Environment.Variables;
    const secretEnv = Object.keys(variables).filter(
      (name) => name.endsWith('_ARN') && name !== 'TOKEN_KMS_KEY_ARN',
    );
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

  it('creates the four secrets without a value in the template', () => {
    const secrets = resourcesOfType(service.api, 'AWS::SecretsManager::Secret');
    expect(Object.keys(secrets)).toHaveLength(4);
    for (const secret of Object.values(secrets)) {
      expect(secret.Properties.SecretString).toBeUndefined();
    }
  });
});

describe('token encryption key', () => {
  function tokenKeyId(): string {
    const keys = Object.keys(resourcesOfType(service.api, 'AWS::KMS::Key'));
    expect(keys).toHaveLength(1);
    return keys[0] ?? '';
  }

  it('is a rotating KMS key deleted with the dev stack', () => {
    const key = resourcesOfType(service.api, 'AWS::KMS::Key')[tokenKeyId()] as unknown as {
      Properties: Record<string, unknown>;
      DeletionPolicy: string;
    };
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.DeletionPolicy).toBe('Delete');
  });

  it.each(all)('$id gets the key ARN only when it encrypts stored tokens', ({ id, access }) => {
    const fn = functionOf(id);
    const variables = fn.properties.Environment.Variables;
    if (!access.encryption) {
      expect(variables.TOKEN_KMS_KEY_ARN).toBeUndefined();
      return;
    }
    const keyArn = { 'Fn::GetAtt': [tokenKeyId(), 'Arn'] };
    expect(variables.TOKEN_KMS_KEY_ARN).toEqual(keyArn);
    const kmsStatements = roleStatements(service.api, fn).filter((statement) =>
      actionsOf([statement]).some((action) => action.startsWith('kms:')),
    );
    expect(kmsStatements.map((statement) => statement.Resource)).toEqual([keyArn]);
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
