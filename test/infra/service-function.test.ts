import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceFunction } from '#lib/constructs/service-function';
import { MissingHandlerEntryError, repositoryRoot } from '#lib/entries';
import { readServiceSettings } from '#lib/settings';

/** A throwaway project with one handler module, bundled for real by esbuild. */
const projects: string[] = [];

afterAll(() => {
  for (const root of projects) rmSync(root, { recursive: true, force: true });
});

function probeProject(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'service-function-'));
  projects.push(root);
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(path.join(root, 'package-lock.json'), JSON.stringify({ lockfileVersion: 3 }));
  // The repository's own esbuild does the bundling, as in a real synth.
  symlinkSync(path.join(repositoryRoot, 'node_modules'), path.join(root, 'node_modules'));
  mkdirSync(path.join(root, 'functions'));
  writeFileSync(
    path.join(root, 'functions/probe.ts'),
    "import { createHash } from 'node:crypto';\n" +
      'export const probeRoute = async (): Promise<{ statusCode: number; body: string }> => ' +
      "({ statusCode: 200, body: createHash('sha256').update('ok').digest('hex').slice(0, 8) });\n" +
      // Another route of the same module, built the way httpRoute routes are.
      'const route = <T>(fn: T) => fn;\n' +
      "export const otherRoute = /* @__PURE__ */ route(async () => 'other route only');\n",
  );
  return root;
}

function probeStack(app: App, sourceRoot: string, entry: string): Stack {
  const stack = new Stack(app, 'Probe');
  new ServiceFunction(stack, 'probe', {
    entry,
    handler: 'probeRoute',
    access: { table: 'read' },
    description: 'probe',
    table: new Table(stack, 'Table', { partitionKey: { name: 'pk', type: AttributeType.STRING } }),
    bus: new EventBus(stack, 'Bus'),
    settings: readServiceSettings(app.node),
    timeout: Duration.seconds(5),
    sourceRoot,
  });
  return stack;
}

describe('ServiceFunction bundling', () => {
  let outdir: string;
  let template: Template;

  beforeAll(() => {
    const root = probeProject();
    outdir = path.join(root, 'cdk.out');
    const app = new App({ outdir, builtinCloudFormationValidation: false });
    template = Template.fromStack(probeStack(app, root, 'functions/probe.ts'));
  });

  it('bundles the entry with esbuild into a minified ESM module with a source map', async () => {
    const assetDir = readdirSync(outdir).find((name) => name.startsWith('asset.'));
    expect(assetDir).toBeDefined();
    const files = readdirSync(path.join(outdir, assetDir ?? '')).sort();
    expect(files).toEqual(['index.mjs', 'index.mjs.map']);

    const bundle = readFileSync(path.join(outdir, assetDir ?? '', 'index.mjs'), 'utf8');
    expect(bundle).toContain('createRequire');
    const module = await import(pathToFileURL(path.join(outdir, assetDir ?? '', 'index.mjs')).href);
    expect(await module.probeRoute()).toEqual({ statusCode: 200, body: '2689367b' });
  });

  it("bundles only the function's own export, not the module's other routes", () => {
    const assetDir = readdirSync(outdir).find((name) => name.startsWith('asset.'));
    const bundle = readFileSync(path.join(outdir, assetDir ?? '', 'index.mjs'), 'utf8');
    expect(bundle).not.toContain('other route only');
  });

  it('points the handler at the named export and enables source maps at run time', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.probeRoute',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps' } },
    });
  });
});

describe('ServiceFunction entries', () => {
  it('names the catalogue entry that does not exist', () => {
    const root = probeProject();
    const app = new App({ builtinCloudFormationValidation: false });
    expect(() => probeStack(app, root, 'functions/api/missing.ts')).toThrow(
      MissingHandlerEntryError,
    );
    expect(() => probeStack(new App(), root, 'functions/api/missing.ts')).toThrow(
      /functions\/api\/missing\.ts/,
    );
  });
});
