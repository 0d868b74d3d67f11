// Test-only extension: the e2e runner drops `req-<id>.json` into a folder; this runs the named check from
// suite/checks.ts in the extension host and answers with `res-<id>.json`. Files keep it free of ports and auth.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { checks, type CheckName } from '../suite/checks';

interface Request {
  id: string;
  check: CheckName;
  args: unknown;
}

export function activate(context: vscode.ExtensionContext): void {
  const dir = process.env.POLICE_E2E_RPC || vscode.workspace.getConfiguration('policeE2E').get<string>('rpcDir', '');
  if (!dir) return;
  const busy = new Set<string>();
  const timer = setInterval(() => void poll(dir, busy), 100);
  context.subscriptions.push({ dispose: () => clearInterval(timer) });
  void fs.writeFile(join(dir, 'probe-ready.json'), JSON.stringify({ pid: process.pid }));
}

async function poll(dir: string, busy: Set<string>): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!/^req-[\w-]+\.json$/.test(name) || busy.has(name)) continue;
    busy.add(name);
    void answer(dir, name).finally(() => busy.delete(name));
  }
}

async function answer(dir: string, name: string): Promise<void> {
  const request = JSON.parse(await fs.readFile(join(dir, name), 'utf8')) as Request;
  await fs.rm(join(dir, name), { force: true });
  let response: { ok: boolean; value?: unknown; error?: string };
  try {
    const check = checks[request.check] as (args: unknown) => Promise<unknown>;
    if (!check) throw new Error(`unknown check '${request.check}'`);
    response = { ok: true, value: await check(request.args) };
  } catch (err) {
    response = { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  // Written then renamed, so the runner never reads half an answer.
  const tmp = join(dir, `.res-${request.id}.json`);
  await fs.writeFile(tmp, JSON.stringify(response));
  await fs.rename(tmp, join(dir, `res-${request.id}.json`));
}
