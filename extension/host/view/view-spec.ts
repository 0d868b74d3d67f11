// What the view needs from a resolved spec (pure: no 'vscode').
import type { ResolvedSpec } from '../../police/spec/types';
import type { ViewSpec } from '../../protocol/messages';
import { DATASET_NAMES, DATASETS } from '../../police/training/datasets';

/** `editable` false for a run's spec copy: a finished run is a record, never edited by a drag. */
export function toViewSpecPlain(spec: ResolvedSpec, editable = true): ViewSpec {
  return {
    name: spec.name,
    inputDim: spec.inputDim,
    outputUnits: spec.outputUnits,
    domain: spec.domain,
    task: spec.data.task,
    editable,
    settings: {
      lr: spec.training.lr,
      steps: spec.training.steps,
      rule: spec.police.rule,
      width: spec.layers[0]?.units ?? 0,
      depth: spec.layers.length,
      ...(spec.data.source.kind === 'dataset'
        ? { dataset: spec.data.source.name, datasets: DATASET_NAMES.filter((name) => DATASETS[name].task === spec.data.task) }
        : {}),
      noise: spec.data.noise,
    },
    regions: spec.regions.map((r) => ({
      name: r.name,
      vertices: r.vertices,
      form: r.form,
      draggable: editable && spec.inputDim === 2 && (r.form === 'vertices' || r.form === 'box' || r.form === 'polygon'),
    })),
  };
}
