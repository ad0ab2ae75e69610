import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  type HttpRoute,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import {
  HttpIamAuthorizer,
  HttpJwtAuthorizer,
  HttpUserPoolAuthorizer,
} from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccountRecovery, Mfa, UserPool, UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { type RouteDefinition, resolverFunction, routes } from '#catalogue/routes';
import { type FunctionPackaging, ServiceFunction } from '#lib/constructs/service-function';
import { ServiceSecrets, secretCatalogue } from '#lib/constructs/service-secrets';
import { apiTimeout, type ServiceSettings } from '#lib/settings';

export interface ApiStackProps extends StackProps {
  settings: ServiceSettings;
  table: ITable;
  bus: IEventBus;
  packaging?: FunctionPackaging;
  sourceRoot?: string;
}

/**
 * The HTTP API: one function per catalogue route, a JWT authorizer for user routes, no
 * authorizer for signed webhooks, IAM for the internal resolve route; plus the directly
 * invokable resolver function and the service's secrets.
 */
export class ApiStack extends Stack {
  readonly httpApi: HttpApi;
  readonly secrets: ServiceSecrets;
  /** Encrypts stored LLM API keys and Git tokens (KMS Encrypt/Decrypt, see platform/encryption). */
  readonly tokenKey: Key;
  /** Route id -> its function. */
  readonly routeFunctions: Record<string, IFunction> = {};
  readonly resolverFunction: IFunction;
  private readonly internalResolveRoute: HttpRoute;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { settings } = props;
    this.secrets = new ServiceSecrets(this, 'Secrets', { removalPolicy: settings.removalPolicy });
    // Retained in prod like the table: the tokens stored there are unreadable without it.
    this.tokenKey = new Key(this, 'TokenKey', {
      description: 'Organizations service: stored LLM API keys and Git tokens',
      enableKeyRotation: true,
      removalPolicy: settings.removalPolicy,
    });

    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'Organizations service',
      createDefaultStage: false,
      corsPreflight:
        settings.corsOrigins.length > 0
          ? {
              allowOrigins: settings.corsOrigins,
              allowMethods: [
                CorsHttpMethod.GET,
                CorsHttpMethod.POST,
                CorsHttpMethod.PUT,
                CorsHttpMethod.PATCH,
                CorsHttpMethod.DELETE,
              ],
              allowHeaders: ['authorization', 'content-type'],
              maxAge: Duration.hours(1),
            }
          : undefined,
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
    });
    this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: settings.throttle,
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs) },
    });

    const authorizers: Record<RouteDefinition['auth'], IHttpRouteAuthorizer> = {
      jwt: this.createJwtAuthorizer(settings),
      webhook: new HttpNoneAuthorizer(),
      iam: new HttpIamAuthorizer(),
    };

    let internalResolveRoute: HttpRoute | undefined;
    for (const route of routes) {
      const routeFunction = this.createFunction(route.id, route, props);
      this.routeFunctions[route.id] = routeFunction;
      const [httpRoute] = this.httpApi.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(`${route.id}Integration`, routeFunction),
        authorizer: authorizers[route.auth],
      });
      if (!httpRoute) throw new Error(`No API Gateway route was created for ${route.id}.`);
      if (route.path === '/internal/resolve') internalResolveRoute = httpRoute;
      if (route.auth === 'webhook') {
        Validations.of(httpRoute).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            'Webhook senders cannot present a JWT or SigV4; the handler verifies the ' +
            "sender's signature or token on the raw body before anything else.",
        });
        new CfnOutput(this, `${route.id}Url`, { value: this.url(route.path) });
      }
    }
    if (!internalResolveRoute) throw new Error('The route catalogue has no /internal/resolve.');
    this.internalResolveRoute = internalResolveRoute;
    this.resolverFunction = this.createFunction(resolverFunction.id, resolverFunction, props);

    new CfnOutput(this, 'ApiUrl', { value: this.httpApi.apiEndpoint });
    new CfnOutput(this, 'InternalResolveUrl', { value: this.url('/internal/resolve') });
    new CfnOutput(this, 'ResolverFunctionArn', { value: this.resolverFunction.functionArn });
    for (const [name, secret] of Object.entries(this.secrets.secrets)) {
      new CfnOutput(this, `${name}SecretArn`, {
        value: secret.secretArn,
        description: secretCatalogue[name as keyof typeof secretCatalogue].holds,
      });
    }
  }

  /**
   * Lets a resolver Lambda (or any principal) call the internal resolve route with SigV4 and
   * invoke the resolver function directly.
   */
  grantResolverAccess(principal: IGrantable): void {
    this.internalResolveRoute.grantInvoke(principal);
    this.resolverFunction.grantInvoke(principal);
  }

  private createJwtAuthorizer(settings: ServiceSettings): IHttpRouteAuthorizer {
    if (settings.jwt) {
      new CfnOutput(this, 'JwtIssuer', { value: settings.jwt.issuer });
      return new HttpJwtAuthorizer('JwtAuthorizer', settings.jwt.issuer, {
        jwtAudience: settings.jwt.audience,
      });
    }

    const userPool = new UserPool(this, 'UserPool', {
      selfSignUpEnabled: true,
      signInAliases: { email: true },
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
      },
      // Authenticator apps only: SMS costs money per message and is the weaker factor.
      mfa: settings.stage === 'prod' ? Mfa.REQUIRED : Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      removalPolicy: settings.removalPolicy,
    });
    Validations.of(userPool).acknowledge({
      id: 'AwsSolutions-COG8',
      reason:
        'The Plus feature plan (threat protection) is billed per active user; this pool is the ' +
        'fallback when no external issuer is configured. Production identity with threat ' +
        'protection comes from jwtIssuer/jwtAudience or by enabling Plus on this pool.',
    });
    if (settings.stage !== 'prod') {
      Validations.of(userPool).acknowledge({
        id: 'AwsSolutions-COG2',
        reason: 'dev stage only: MFA is optional so test users can be scripted; prod requires it.',
      });
    }
    const client = new UserPoolClient(this, 'UserPoolClient', {
      userPool,
      generateSecret: false,
      authFlows: { userSrp: true, userPassword: true },
    });
    new CfnOutput(this, 'UserPoolId', { value: userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: client.userPoolClientId });
    // The handlers read `email` from the claims: clients send the Cognito ID token.
    return new HttpUserPoolAuthorizer('JwtAuthorizer', userPool, { userPoolClients: [client] });
  }

  private createFunction(
    id: string,
    definition: { entry: string; handler: string; access: RouteDefinition['access'] },
    props: ApiStackProps,
  ): IFunction {
    return new ServiceFunction(this, id, {
      entry: definition.entry,
      handler: definition.handler,
      access: definition.access,
      description: `${id} (${definition.entry})`,
      table: props.table,
      bus: props.bus,
      secrets: this.secrets,
      tokenKey: this.tokenKey,
      settings: props.settings,
      timeout: apiTimeout,
      packaging: props.packaging,
      sourceRoot: props.sourceRoot,
    }).fn;
  }

  private url(path: string): string {
    return `${this.httpApi.apiEndpoint}${path}`;
  }
}
