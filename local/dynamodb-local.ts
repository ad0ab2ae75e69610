import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Installs and runs DynamoDB Local, AWS's own emulator. It is fetched from the npm registry
 * package `amplify-dynamodb-simulator` (only its `emulator/` folder is unpacked, into the
 * git-ignored `.cache/`), and needs Java 17+.
 */
const simulatorPackage = 'amplify-dynamodb-simulator@2.9.30';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = path.join(repoRoot, '.cache');
export const emulatorDir = path.join(cacheDir, 'dynamodb-local');

export class JavaMissingError extends Error {
  constructor() {
    super(
      'DynamoDB Local needs Java 17 or newer, and `java` was not found: install it with ' +
        '`sudo apt-get install -y openjdk-17-jre-headless` (Debian/Ubuntu) or ' +
        '`brew install openjdk@17` (macOS).',
    );
  }
}

export function assertJava(): void {
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
  } catch {
    throw new JavaMissingError();
  }
}

export function ensureDynamoDbLocalInstalled(): string {
  const jar = path.join(emulatorDir, 'DynamoDBLocal.jar');
  if (existsSync(jar)) return emulatorDir;

  mkdirSync(cacheDir, { recursive: true });
  const staging = path.join(cacheDir, 'staging');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  execFileSync('npm', ['pack', simulatorPackage, '--silent', '--pack-destination', staging], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const tarball = readdirSync(staging).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack ${simulatorPackage} produced no tarball`);
  execFileSync('tar', ['-xzf', tarball, 'package/emulator'], { cwd: staging });
  rmSync(emulatorDir, { recursive: true, force: true });
  execFileSync('mv', [path.join(staging, 'package', 'emulator'), emulatorDir]);
  rmSync(staging, { recursive: true, force: true });
  return emulatorDir;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

export interface RunningDynamoDbLocal {
  endpoint: string;
  port: number;
  stop: () => Promise<void>;
}

export interface StartOptions {
  port?: number;
  /** A folder for persistent data; in-memory when absent. */
  dataDir?: string;
}

export async function startDynamoDbLocal(
  options: StartOptions = {},
): Promise<RunningDynamoDbLocal> {
  assertJava();
  const dir = ensureDynamoDbLocalInstalled();
  const port = options.port ?? (await freePort());
  const storage = options.dataDir ? ['-dbPath', options.dataDir, '-sharedDb'] : ['-inMemory'];
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });

  const child: ChildProcess = spawn(
    'java',
    [
      '-Xmx1g',
      '-Djava.library.path=./DynamoDBLocal_lib',
      '-jar',
      'DynamoDBLocal.jar',
      ...storage,
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });

  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilReady(endpoint, child, () => output);

  return {
    endpoint,
    port,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function waitUntilReady(
  endpoint: string,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`DynamoDB Local exited (${child.exitCode}): ${output().slice(-2000)}`);
    }
    try {
      // Any HTTP answer means the server is listening; DynamoDB answers 400 to a bare GET.
      await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }
  child.kill('SIGKILL');
  throw new Error(`DynamoDB Local did not start within 30 s: ${output().slice(-2000)}`);
}
