import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: catalogue entries (`functions/api/x.ts`) are relative to it. */
export const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export class MissingHandlerEntryError extends Error {
  override readonly name = 'MissingHandlerEntryError';
}

/**
 * Turns a catalogue entry into an absolute path under `root`, failing with the entry's name when
 * the file is not there (esbuild's own error would not say which catalogue item is wrong).
 */
export function resolveEntry(entry: string, root: string = repositoryRoot): string {
  const absolute = path.resolve(root, entry);
  if (!existsSync(absolute)) {
    throw new MissingHandlerEntryError(
      `Handler entry ${entry} named in the route/rule catalogue does not exist (looked for ${absolute}).`,
    );
  }
  return absolute;
}

/** Every module the catalogues name, so a synth reports all missing files at once. */
export function assertEntriesExist(entries: string[], root: string = repositoryRoot): void {
  const missing = [...new Set(entries)].filter((entry) => !existsSync(path.resolve(root, entry)));
  if (missing.length > 0) {
    throw new MissingHandlerEntryError(
      `Handler entries named in the route/rule catalogues do not exist under ${root}: ` +
        `${missing.join(', ')}`,
    );
  }
}
