import path from 'node:path';
import { type Duration, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  ApplicationLogLevel,
  Architecture,
  Code,
  Function as LambdaFunction,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import {
  LogLevel,
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { metricsCatalogue } from '#catalogue/metrics';
import type { RouteAccess } from '#catalogue/routes';
import { tableDefinition } from '#catalogue/table';
import {
  type SecretName,
  type ServiceSecrets,
  secretCatalogue,
  secretsNeededBy,
} from '#lib/constructs/service-secrets';
import { repositoryRoot, resolveEntry } from '#lib/entries';
import { routeEntryFile } from '#lib/route-entry';
import type { ServiceSettings } from '#lib/settings';

/**
 * `esbuild`: the real bundle (the default, and what `cdk synth` / `cdk deploy` use).
 * `placeholder`: a one-line inline stub with the same handler name, so assertion tests can
 * synthesize the whole app in seconds; the template is otherwise identical.
 */
export type FunctionPackaging = 'esbuild' | 'placeholder';

export interface ServiceFunctionProps {
  /** Module path from the repository root, as the catalogues spell it. */
  entry: string;
  /** The export the module provides for this function. */
  handler: string;
  /** What the function touches; it is granted exactly this. */
  access: RouteAccess;
  description: string;
  table: ITable;
  bus: IEventBus;
  /** Required when the access needs a secret. */
  secrets?: ServiceSecrets;
  /** The KMS key for stored API keys and Git tokens; required when `access.encryption`. */
  tokenKey?: IKey;
  settings: ServiceSettings;
  timeout: Duration;
  memorySize?: number;
  /** Asynchronous invocations that still fail after Lambda's retries land here. */
  asyncFailureQueue?: IQueue;
  packaging?: FunctionPackaging;
  /** Where catalogue entries are resolved; defaults to this repository. */
  sourceRoot?: string;
}

/** Lambda's own async retries before the event goes to `asyncFailureQueue`. */
const asyncRetryAttempts = 2;

/** DynamoDB actions per declared table access: no Scan, no streams, no table management. */
const tableReadActions = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];
const tableWriteActions = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  // Condition checks inside TransactWriteItems (transactions have no IAM action of their own).
  'dynamodb:ConditionCheckItem',
];

/**
 * Every Lambda function of the service: one place for runtime, architecture, bundling, tracing,
 * logging and least-privilege grants derived from the catalogue's `access` declaration.
 */
export class ServiceFunction extends Construct {
  readonly fn: LambdaFunction;
  readonly role: IRole;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    const sourceRoot = props.sourceRoot ?? repositoryRoot;
    const entry = resolveEntry(props.entry, sourceRoot);
    const secretNames = secretsNeededBy(props.access);
    if (secretNames.length > 0 && !props.secrets) {
      throw new Error(`${id} needs secrets (${secretNames.join(', ')}) but none were given.`);
    }
    if (props.access.encryption && !props.tokenKey) {
      throw new Error(`${id} encrypts stored tokens but no token key was given.`);
    }

    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.settings.logRetention,
      removalPolicy: props.settings.removalPolicy,
    });
    // Our own role instead of AWSLambdaBasicExecutionRole: logs go to this function's group only.
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description}: execution role`,
    });
    logGroup.grantWrite(role);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) uses Resource *: ' +
        'X-Ray supports no resource-level permissions.',
    });
    this.role = role;

    const environment: Record<string, string> = {
      TABLE_NAME: props.table.tableName,
      EVENT_BUS_NAME: props.bus.eventBusName,
      LOG_LEVEL: props.settings.logLevel,
      POWERTOOLS_SERVICE_NAME: metricsCatalogue.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: metricsCatalogue.namespace,
      NODE_OPTIONS: '--enable-source-maps',
    };
    if (props.access.stripe) Object.assign(environment, props.settings.checkoutEnvironment);
    if (props.access.webhookSecret === 'github' || props.access.webhookSecret === 'gitlab') {
      Object.assign(environment, props.settings.gitWebhookEnvironment);
    }
    for (const name of secretNames) {
      const secret = props.secrets?.secrets[name];
      if (secret) environment[secretCatalogue[name].arnEnv] = secret.secretArn;
    }
    if (props.access.encryption && props.tokenKey) {
      environment.TOKEN_KMS_KEY_ARN = props.tokenKey.keyArn;
    }

    const common = {
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout,
      role,
      tracing: Tracing.ACTIVE,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel[props.settings.logLevel],
      systemLogLevelV2: SystemLogLevel.WARN,
      environment,
      ...(props.asyncFailureQueue
        ? { deadLetterQueue: props.asyncFailureQueue, retryAttempts: asyncRetryAttempts }
        : {}),
    };

    this.fn =
      (props.packaging ?? 'esbuild') === 'esbuild'
        ? new NodejsFunction(this, 'Function', {
            ...common,
            // Only this function's handler, not every route of the catalogue's module.
            entry: routeEntryFile(path.relative(sourceRoot, entry), props.handler, sourceRoot),
            handler: props.handler,
            projectRoot: sourceRoot,
            depsLockFilePath: path.join(sourceRoot, 'package-lock.json'),
            bundling: {
              minify: true,
              // Bundling 35 functions: only errors are worth printing.
              logLevel: LogLevel.ERROR,
              sourceMap: true,
              sourceMapMode: SourceMapMode.EXTERNAL,
              sourcesContent: false,
              target: 'node22',
              format: OutputFormat.ESM,
              mainFields: ['module', 'main'],
              // CommonJS dependencies inside an ESM bundle still call require().
              banner:
                "import { createRequire } from 'node:module';" +
                'const require = createRequire(import.meta.url);',
              // Bundle the SDK version we test against instead of the runtime's.
              externalModules: [],
            },
          })
        : new LambdaFunction(this, 'Function', {
            ...common,
            handler: `index.${props.handler}`,
            code: Code.fromInline(
              `exports.${props.handler} = async () => { throw new Error('placeholder code'); };`,
            ),
          });

    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is pinned on purpose (issue 5): a supported LTS that matches the bundle ' +
        'target and the tested runtime; move runtime and target together when the service moves ' +
        'to Node.js 24.',
    });
    this.grantDeclaredAccess(props, secretNames);
  }

  private grantDeclaredAccess(props: ServiceFunctionProps, secretNames: SecretName[]): void {
    const { access } = props;
    if (access.table) {
      const tableArn = props.table.tableArn;
      const indexArns = tableDefinition.globalSecondaryIndexes.map(
        (index) => `${tableArn}/index/${index.indexName}`,
      );
      const itemActions =
        access.table === 'readwrite'
          ? [...tableReadActions, ...tableWriteActions]
          : tableReadActions;
      this.role.addToPrincipalPolicy(
        new PolicyStatement({ actions: itemActions, resources: [tableArn] }),
      );
      this.role.addToPrincipalPolicy(
        new PolicyStatement({ actions: ['dynamodb:Query'], resources: indexArns }),
      );
    }
    if (access.publishes) props.bus.grantPutEventsTo(this.fn);
    if (access.encryption) props.tokenKey?.grant(this.role, 'kms:Encrypt', 'kms:Decrypt');

    const secretArns = secretNames.flatMap((name) => {
      const secret = props.secrets?.secrets[name];
      return secret ? [secret.secretArn] : [];
    });
    if (secretArns.length > 0) {
      this.fn.addToRolePolicy(
        new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: secretArns }),
      );
    }
  }
}
