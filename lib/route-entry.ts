import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Every function is bundled from an entry of its own that re-exports only its handler from the
 * catalogue's module, so esbuild leaves out the other routes of that module and what only they
 * import (Stripe, Octokit, KMS, the event catalogue...). This works because route handlers are
 * created by calls annotated `@__PURE__` whose arguments have no side effects (schemas are
 * module constants), and package.json declares `"sideEffects": false`, so a module none of
 * whose exports are used is left out. The handler keeps its catalogue name, so Lambda's
 * `index.<handler>` is unchanged.
 *
 * The entry is generated under `<root>/.cache/route-entries/` (git-ignored), inside the project
 * root as NodejsFunction requires, and rewritten only when its content changes.
 */
export function routeEntryFile(entry: string, handler: string, root: string): string {
  const dir = path.join(root, '.cache', 'route-entries');
  const file = path.join(dir, `${entry.replace(/\.ts$/, '').replaceAll('/', '-')}.${handler}.ts`);
  let target = path.relative(dir, path.join(root, entry)).split(path.sep).join('/');
  if (!target.startsWith('.')) target = `./${target}`;
  const source = `export { ${handler} } from '${target}';\n`;
  mkdirSync(dir, { recursive: true });
  if (readIfExists(file) !== source) writeFileSync(file, source);
  return file;
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
