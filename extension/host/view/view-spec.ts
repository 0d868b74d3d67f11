// What the view needs from a resolved spec (pure: no 'vscode').
import type { ResolvedSpec } from '../../police/spec/types';
import type { ViewSpec } from '../../protocol/messages';

/** `editable` false for a run's spec copy: a finished run is a record, never edited by a drag. */
export function toViewSpecPlain(spec: ResolvedSpec, editable = true): ViewSpec {
  return {
    name: spec.name,
    inputDim: spec.inputDim,
    outputUnits: spec.outputUnits,
    domain: spec.domain,
    task: spec.data.task,
    regions: spec.regions.map((r) => ({
      name: r.name,
      vertices: r.vertices,
      form: r.form,
      draggable: editable && spec.inputDim === 2 && (r.form === 'vertices' || r.form === 'box' || r.form === 'polygon'),
    })),
  };
}
