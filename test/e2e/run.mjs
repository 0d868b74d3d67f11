// End-to-end runner: a real VS Code workbench (code-server) driven by Debian's Chromium.
// Installs code-server into .e2e/ (once), packages the extension and the API probe as VSIXs, starts code-server on a free
// port, runs test/e2e/workbench.test.mjs with node's test runner, and always cleans up code-server and Chromium.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CODE_SERVER_VERSION = '4.100.3';
const RIPGREP_PACKAGE_VERSION = '1.15.11';
const RIPGREP_ASSET = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';
const e2eDir = join(repo, '.e2e');
const codeServerDir = join(e2eDir, 'code-server');
const codeServerEntry = join(codeServerDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const resultsDir = join(repo, 'test-results', 'e2e');

function log(message) {
  process.stderr.write(`[e2e] ${message}\n`);
}

function run(command, args, options = {}) {
  log(`$ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
  }
}

function requireTool(path, hint) {
  if (!existsSync(path)) throw new Error(`${path} is missing: ${hint}`);
}

/** code-server from the npm registry, into a test-only folder; @vscode/ripgrep's download is served from a pre-seeded cache. */
function ensureCodeServer() {
  if (existsSync(codeServerEntry)) {
    const installed = JSON.parse(readFileSync(join(codeServerDir, 'node_modules', 'code-server', 'package.json'), 'utf8')).version;
    if (installed === CODE_SERVER_VERSION) return;
    log(`code-server ${installed} found, ${CODE_SERVER_VERSION} wanted: reinstalling`);
  }
  requireTool('/usr/bin/rg', 'apt-get install ripgrep (code-server needs a ripgrep binary and cannot download one here)');
  const cache = join(tmpdir(), `vscode-ripgrep-cache-${RIPGREP_PACKAGE_VERSION}`);
  mkdirSync(cache, { recursive: true });
  const asset = join(cache, RIPGREP_ASSET);
  if (!existsSync(asset)) {
    const staging = mkdtempSync(join(tmpdir(), 'rg-'));
    cpSync('/usr/bin/rg', join(staging, 'rg'));
    execFileSync('tar', ['-czf', asset, '-C', staging, 'rg']);
    rmSync(staging, { recursive: true, force: true });
  }
  rmSync(codeServerDir, { recursive: true, force: true });
  mkdirSync(codeServerDir, { recursive: true });
  writeFileSync(join(codeServerDir, 'package.json'), JSON.stringify({ name: 'police-e2e-code-server', private: true }, null, 2));
  run('npm', ['install', '--unsafe-perm', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: codeServerDir,
    env: { ...process.env, npm_config_yes: 'true' },
  });
  if (!existsSync(codeServerEntry)) throw new Error(`code-server installed but ${codeServerEntry} is missing`);
}

/** The API probe: a tiny extension running test/e2e/suite checks inside the extension host, packaged like any other. */
async function buildProbe() {
  const { build } = await import('esbuild');
  const probeDir = join(e2eDir, 'probe');
  rmSync(probeDir, { recursive: true, force: true });
  mkdirSync(join(probeDir, 'dist'), { recursive: true });
  await build({
    entryPoints: [join(repo, 'test/e2e/probe/extension.ts')],
    outfile: join(probeDir, 'dist', 'extension.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode'],
    logLevel: 'warning',
  });
  cpSync(join(repo, 'test/e2e/probe/package.json'), join(probeDir, 'package.json'));
  cpSync(join(repo, 'LICENSE'), join(probeDir, 'LICENSE'));
  writeFileSync(join(probeDir, 'README.md'), '# POLICE e2e probe\n\nRuns the e2e API checks inside the extension host.\n');
  writeFileSync(join(probeDir, '.vscodeignore'), '');
  const vsix = join(e2eDir, 'police-e2e-probe.vsix');
  run(process.execPath, [join(repo, 'node_modules/@vscode/vsce/vsce'), 'package', '--no-dependencies', '-o', vsix], { cwd: probeDir });
  return vsix;
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

async function waitForHealth(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode} before it was healthy`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer ${url}/healthz within ${timeoutMs} ms`);
}

/**
 * Processes whose command line or environment mentions `marker` (our session dir): code-server, its extension host
 * and language servers (they inherit POLICE_E2E_RPC), the trainers, Chromium. Cleanup never touches anyone else's.
 */
function pidsMentioning(marker) {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (
        readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker) ||
        readFileSync(`/proc/${entry}/environ`, 'utf8').includes(marker)
      ) {
        pids.push(Number(entry));
      }
    } catch {
      // Gone already, or not ours to read.
    }
  }
  return pids;
}

function killTree(marker) {
  for (const pid of pidsMentioning(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already exited.
    }
  }
}

async function main() {
  requireTool('/usr/bin/chromium', "apt-get install chromium (the workbench is driven by Debian's Chromium)");
  rmSync(resultsDir, { recursive: true, force: true });
  mkdirSync(resultsDir, { recursive: true });
  ensureCodeServer();

  try {
    run('npm', ['run', 'package'], { cwd: repo });
  } catch (err) {
    // dist/ is rebuilt by every build in this checkout: a concurrent build can pull files from under vsce once.
    log(`packaging failed (${err.message}); retrying once`);
    run('npm', ['run', 'package'], { cwd: repo });
  }
  const vsix = join(repo, 'dist', 'police-studio.vsix');
  const probeVsix = await buildProbe();

  // Everything the sessions write lives under one temp dir whose name marks our processes for cleanup.
  const sessionDir = mkdtempSync(join(tmpdir(), 'police-e2e-'));
  const servers = [];
  let tests;
  let exitCode = 1;
  const cleanup = () => {
    if (tests && tests.exitCode === null) tests.kill('SIGKILL');
    for (const server of servers) if (server.exitCode === null) server.kill('SIGKILL');
    killTree(sessionDir);
  };
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  process.on('SIGTERM', () => {
    cleanup();
    process.exit(143);
  });
  try {
    // Two workbenches: a trusted one for the whole journey, and one in Restricted Mode where training must refuse.
    const all = [
      { name: 'workbench', trusted: true, vsixes: [vsix, probeVsix] },
      { name: 'untrusted', trusted: false, vsixes: [vsix] },
      // The view's own trusted code-server: a window of the workbench's would leave an extension host (and its probe)
      // behind on that server's RPC folder, and node --test runs view.test.mjs before workbench.test.mjs.
      { name: 'view', trusted: true, vsixes: [vsix] },
    ];
    // POLICE_E2E_ONLY=view (or a comma list) runs only those files while iterating; the suite runs them all.
    const only = process.env.POLICE_E2E_ONLY?.split(',').filter(Boolean);
    const chosen = only ? all.filter((s) => only.includes(s.name)) : all;
    if (chosen.length === 0)
      throw new Error(`POLICE_E2E_ONLY=${process.env.POLICE_E2E_ONLY} names no session (${all.map((s) => s.name).join(', ')})`);
    const sessions = await Promise.all(
      chosen.map((s) => startSession(sessionDir, s.name, { trusted: s.trusted, vsixes: s.vsixes, servers })),
    );
    const env = { ...process.env };
    for (const session of sessions) Object.assign(env, session.env);
    tests = spawn(
      process.execPath,
      [
        '--test',
        '--test-concurrency=1',
        '--test-timeout=600000',
        ...sessions.map((session) => join(repo, 'test/e2e', `${session.name}.test.mjs`)),
      ],
      { stdio: 'inherit', cwd: repo, env },
    );
    exitCode = await new Promise((r) => tests.on('exit', (code, signal) => r(code ?? (signal ? 1 : 0))));
  } finally {
    cleanup();
    // Keep the run folders and logs of a failure for inspection; a success leaves nothing behind.
    if (exitCode === 0) rmSync(sessionDir, { recursive: true, force: true });
    else log(`kept ${sessionDir} for inspection`);
  }
  process.exitCode = exitCode;
}

/** One code-server with its own user data, extensions and workspace copy; returns the env its test file reads. */
async function startSession(root, name, { trusted, vsixes, servers }) {
  const base = join(root, name);
  const dirs = {
    userData: join(base, 'user-data'),
    extensions: join(base, 'extensions'),
    workspace: join(base, 'workspace'),
    rpc: join(base, 'rpc'),
    chromeProfile: join(base, 'chromium-profile'),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  const config = join(base, 'config.yaml');
  writeFileSync(config, 'auth: none\ncert: false\n');

  // The workspace: copies of the e2e specs and the examples, so runs never touch the repository.
  cpSync(join(repo, 'test/e2e/fixtures'), dirs.workspace, { recursive: true });
  if (existsSync(join(repo, 'examples'))) cpSync(join(repo, 'examples'), join(dirs.workspace, 'examples'), { recursive: true });
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(
    join(dirs.userData, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.enableExperiments': false,
        // Untrusted: Restricted Mode without the startup question, as if the user had answered "No".
        'security.workspace.trust.enabled': !trusted,
        'security.workspace.trust.startupPrompt': 'never',
        'telemetry.telemetryLevel': 'off',
        'extensions.autoUpdate': false,
        'extensions.autoCheckUpdates': false,
        'update.mode': 'none',
        'editor.quickSuggestionsDelay': 10,
        'police.backend': 'wasm',
        'policeE2E.rpcDir': dirs.rpc,
      },
      null,
      2,
    ),
  );

  const codeServerArgs = (extra) => [
    codeServerEntry,
    '--config',
    config,
    '--user-data-dir',
    dirs.userData,
    '--extensions-dir',
    dirs.extensions,
    ...extra,
  ];
  for (const file of vsixes) run(process.execPath, codeServerArgs(['--install-extension', file]));

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const serverLog = join(resultsDir, `code-server-${name}.log`);
  const out = openSync(serverLog, 'w');
  const server = spawn(
    process.execPath,
    codeServerArgs([
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      ...(trusted ? ['--disable-workspace-trust'] : []),
      '--disable-getting-started-override',
      dirs.workspace,
    ]),
    { stdio: ['ignore', out, out], env: { ...process.env, POLICE_E2E_RPC: dirs.rpc } },
  );
  servers.push(server);
  await waitForHealth(url, server, 60_000);
  log(`${name}: code-server ready at ${url} (log: ${serverLog})`);
  const key = name.toUpperCase();
  return {
    name,
    env: {
      [`POLICE_E2E_${key}_URL`]: url,
      [`POLICE_E2E_${key}_WORKSPACE`]: dirs.workspace,
      [`POLICE_E2E_${key}_RPC`]: dirs.rpc,
      [`POLICE_E2E_${key}_PROFILE`]: dirs.chromeProfile,
      [`POLICE_E2E_${key}_EXTENSIONS`]: dirs.extensions,
      POLICE_E2E_RESULTS: resultsDir,
    },
  };
}

main().catch((err) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
