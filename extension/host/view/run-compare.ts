// One row of the view's run comparison: a run's loss curve, settings and results, read from its folder (pure Node: no 'vscode').
import { basename, dirname, join } from 'node:path';
import type { Certificate } from '../../police/proof/certificate-types';
import { RUN_FILES } from '../../police/io/run-files';
import { readTextLimitedAsync } from '../../police/io/safe-read';
import type { ComparedRun } from '../../protocol/messages';
import { readRunRecord } from '../run-folders';
import { readMetrics } from './run-files';
import { parseSpecText } from './spec-source';

/** Everything the comparison table shows about the run in `dir`; `label` names it (workspace-relative, say). */
export async function comparedRun(dir: string, label: string): Promise<ComparedRun> {
  const [history, record, certificate, specText] = await Promise.all([
    readMetrics(join(dir, RUN_FILES.metrics)),
    readRunRecord(dir),
    readTextLimitedAsync(join(dir, RUN_FILES.certificate), { kind: 'certificate' })
      .then((text) => JSON.parse(text) as Certificate)
      .catch(() => undefined),
    readTextLimitedAsync(join(dir, RUN_FILES.spec), { kind: 'spec' }).catch(() => undefined),
  ]);
  const spec = specText === undefined ? undefined : (await parseSpecText(specText, join(dir, RUN_FILES.spec))).spec;
  const settings = spec
    ? [
        `${spec.layers.length}×${spec.layers[0]?.units ?? 0}`,
        `lr ${spec.training.lr}`,
        `${spec.training.steps} steps`,
        `batch ${spec.training.batch}`,
        spec.police.enabled ? `rule ${spec.police.rule}` : 'POLICE off',
      ].join(' · ')
    : 'spec unreadable';
  const regions = certificate?.regions ?? [];
  return {
    label,
    id: `${basename(dirname(dir))}/${basename(dir)}`,
    points: history.points,
    settings,
    certificate: certificate ? (certificate.proved ? 'proved' : 'not proved') : 'none',
    ...(regions.length ? { minMargin: Math.min(...regions.map((r) => r.minMargin)) } : {}),
    ...(record
      ? {
          fullDataLoss: record.fullDataLoss,
          elapsedMs: record.elapsedMs,
          backend: record.backend,
          keptStep: record.keptStep,
          stepsDone: record.stepsDone,
        }
      : {}),
  };
}
