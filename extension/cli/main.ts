// The headless `police` command: validate, train, verify, analyze, export, import, bench.
import { parseArgs } from 'node:util';
import { analyzeCommand } from './analyze';
import { benchCommand } from './bench';
import { exportCommand } from './export';
import { importCommand } from './import';
import { trainCommand } from './train';
import { validateCommand } from './validate';
import { verifyCommand } from './verify';

const USAGE = `usage:
  police validate SPEC [--json] [--allow-data-outside]
  police train SPEC --out DIR [--steps N] [--seed S] [--backend auto|tensorflow|webgpu|wasm|cpu] [--threads N] [--json] [--allow-data-outside]
  police verify SPEC DIR [--json] [--allow-data-outside]
  police analyze SPEC DIR [--json] [--probes K] [--seed S] [--allow-data-outside]
  police export SPEC RUN --format onnx|safetensors|pytorch|tfjs --out PATH [--json]
  police import SPEC FILE --out RUN [--json]
  police bench [--json] [--quick] [--backend X|all] [--threads N] [--only D,L,W]
exit codes: 0 ok, 1 bad input, 2 not proved, 3 (verify) certificate.json missing or disagreeing, 130/143 stopped by SIGINT/SIGTERM`;

type Command = (args: string[]) => Promise<number>;

const commands: Record<string, Command> = {
  validate: validateCommand,
  train: trainCommand,
  verify: verifyCommand,
  bench: benchCommand,
  analyze: analyzeCommand,
  export: exportCommand,
  import: importCommand,
};

async function main(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv.slice(0, 1), allowPositionals: true, strict: false });
  const name = positionals[0];
  const command = name ? commands[name] : undefined;
  if (!command) {
    process.stderr.write(`${name ? `unknown command '${name}'\n` : ''}${USAGE}\n`);
    return 1;
  }
  return command(argv.slice(1));
}

/** Exits once everything written to stdout and stderr has reached the pipe: process.exit alone drops what a slow reader has not taken yet. */
function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const flushed = (): void => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', flushed);
  process.stderr.write('', flushed);
}

// A reader that went away (`police validate … | head`) is not an error of the command.
process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? (process.exitCode ?? 0) : 1));

main(process.argv.slice(2)).then(exitWhenFlushed, (err: unknown) => {
  process.stderr.write(`police: ${err instanceof Error ? err.message : String(err)}\n`);
  exitWhenFlushed(1);
});
