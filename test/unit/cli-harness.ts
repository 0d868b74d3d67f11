// Shared by the CLI tests: run a `police` subcommand in-process, capture what it prints, and lay out run folders.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `command(args)` with stdout/stderr captured instead of printed. */
export async function captureCli(command: (args: string[]) => Promise<number>, args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  // Only the command's text: node:test's own reports (binary, on stdout) pass through, or a report written meanwhile is lost.
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) =>
    typeof chunk === 'string'
      ? ((stdout += chunk), true)
      : (out as (...a: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) =>
    typeof chunk === 'string'
      ? ((stderr += chunk), true)
      : (err as (...a: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stderr.write;
  try {
    return { code: await command(args), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** A fresh folder `root/name` holding the given files. */
export function writeRunDir(root: string, name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}
