import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AccountPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { buildService, type ServiceStacks } from '#lib/service';

export interface SynthesizedService {
  stacks: ServiceStacks;
  storage: Template;
  events: Template;
  api: Template;
  monitoring: Template;
  /** A stack of the platform's resolver, whose role was given `grantResolverAccess`. */
  resolverCaller: Template;
}

/**
 * Synthesizes the whole app once with placeholder function code (esbuild bundling of ~15 modules
 * is covered by service-function.test.ts and `npm run synth`). CloudFormation schema validation
 * is off here: it is `npm run synth`'s job and doubles the synth time.
 */
export function synthesizeService(context: Record<string, string> = {}): SynthesizedService {
  const app = new App({ context, builtinCloudFormationValidation: false });
  const stacks = buildService(app, { packaging: 'placeholder' });
  const callerStack = new Stack(app, 'ResolverCaller');
  const callerRole = new Role(callerStack, 'ResolverRole', {
    assumedBy: new AccountPrincipal('123456789012'),
  });
  stacks.api.grantResolverAccess(callerRole);
  return {
    stacks,
    storage: Template.fromStack(stacks.storage),
    events: Template.fromStack(stacks.events),
    api: Template.fromStack(stacks.api),
    monitoring: Template.fromStack(stacks.monitoring),
    resolverCaller: Template.fromStack(callerStack),
  };
}

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** Lambda functions of a template by their description's first word (the catalogue id). */
export function functionsById(template: Template): Map<string, FunctionResource> {
  const functions = new Map<string, FunctionResource>();
  const resources = template.toJSON().Resources as Resources;
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const description = String(resource.Properties.Description ?? '');
    const id = description.split(/[ :]/)[0] ?? '';
    functions.set(id, {
      logicalId,
      properties: resource.Properties as unknown as FunctionProperties,
    });
  }
  return functions;
}

export interface FunctionProperties {
  Handler: string;
  Runtime: string;
  Architectures: string[];
  Environment: { Variables: Record<string, unknown> };
  Role: { 'Fn::GetAtt': [string, string] };
  DeadLetterConfig?: { TargetArn: unknown };
  TracingConfig?: { Mode: string };
  LoggingConfig?: { LogFormat: string; LogGroup: unknown; ApplicationLogLevel: string };
}

export interface FunctionResource {
  logicalId: string;
  properties: FunctionProperties;
}

export interface PolicyStatement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Every statement of the inline policies attached to a function's role. */
export function roleStatements(template: Template, fn: FunctionResource): PolicyStatement[] {
  const roleId = fn.properties.Role['Fn::GetAtt'][0];
  const resources = template.toJSON().Resources as Resources;
  return Object.values(resources)
    .filter((resource) => resource.Type === 'AWS::IAM::Policy')
    .filter((policy) =>
      (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId),
    )
    .flatMap(
      (policy) => (policy.Properties.PolicyDocument as { Statement: PolicyStatement[] }).Statement,
    );
}

export function actionsOf(statements: PolicyStatement[]): string[] {
  return statements.flatMap((statement) =>
    Array.isArray(statement.Action) ? statement.Action : [statement.Action],
  );
}

export function resourcesOfType(template: Template, type: string): Resources {
  const resources = template.toJSON().Resources as Resources;
  return Object.fromEntries(Object.entries(resources).filter(([, r]) => r.Type === type));
}
