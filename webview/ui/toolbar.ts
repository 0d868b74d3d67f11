// The toolbar: output, colour mode, partition on/off, the plane through the input space, camera buttons.
import type { ViewSpec } from '../../extension/protocol/messages';
import type { PlaneMode } from '../../extension/common/view-geometry';
import { element } from '../dom';
import type { SavedState } from '../state';

export interface ToolbarEvents {
  /** Output, colour mode or partition toggle changed (already written into the settings). */
  onStyle(): void;
  /** The plane controls moved: the new plane mode (already written into the settings). */
  onPlane(): void;
  onTopView(): void;
  onResetView(): void;
}

export class Toolbar {
  private readonly title: HTMLElement;
  private readonly outputSelect: HTMLSelectElement;
  private readonly colorSelect: HTMLSelectElement;
  private readonly wireCheck: HTMLInputElement;
  private readonly planeSelect: HTMLSelectElement;
  private readonly axisUSelect: HTMLSelectElement;
  private readonly axisVSelect: HTMLSelectElement;
  private readonly sliceInput: HTMLInputElement;
  private readonly sliceLabel: HTMLElement;
  private spec: ViewSpec | undefined;

  constructor(
    parent: HTMLElement,
    private readonly settings: SavedState,
    private readonly events: ToolbarEvents,
  ) {
    const toolbar = parent.appendChild(element('header', { class: 'toolbar' }));
    this.title = toolbar.appendChild(element('span', { class: 'title' }, 'POLICE view'));
    this.outputSelect = toolbar.appendChild(element('select', { title: 'Output shown as the surface', 'aria-label': 'Output' }));
    this.colorSelect = toolbar.appendChild(element('select', { title: 'Surface colour', 'aria-label': 'Colour' }));
    this.colorSelect.append(new Option('colour: value', 'value'), new Option('colour: linear regions', 'cells'));
    const wireLabel = toolbar.appendChild(element('label', { title: 'Draw the exact linear-region partition on the surface' }));
    this.wireCheck = wireLabel.appendChild(element('input', { type: 'checkbox' }));
    wireLabel.append(' partition');
    this.planeSelect = toolbar.appendChild(element('select', { title: 'Plane through the input space', 'aria-label': 'Plane' }));
    this.axisUSelect = toolbar.appendChild(element('select', { title: 'First axis', 'aria-label': 'First axis' }));
    this.axisVSelect = toolbar.appendChild(element('select', { title: 'Second axis', 'aria-label': 'Second axis' }));
    this.sliceInput = toolbar.appendChild(
      element('input', { type: 'range', min: '0', max: '1000', value: '500', title: 'Slice position', 'aria-label': 'Slice position' }),
    );
    this.sliceLabel = toolbar.appendChild(element('span', { class: 'slice-label' }));
    const topButton = toolbar.appendChild(element('button', { title: 'Look straight down on the plane' }, 'Top view'));
    const resetButton = toolbar.appendChild(element('button', { title: 'Back to the default camera' }, 'Reset view'));

    this.wireCheck.checked = settings.wireframe;
    this.colorSelect.value = settings.colorMode;
    this.wireCheck.addEventListener('change', () => {
      settings.wireframe = this.wireCheck.checked;
      events.onStyle();
    });
    this.colorSelect.addEventListener('change', () => {
      settings.colorMode = this.colorSelect.value === 'cells' ? 'cells' : 'value';
      events.onStyle();
    });
    this.outputSelect.addEventListener('change', () => {
      settings.output = Number(this.outputSelect.value) || 0;
      events.onStyle();
    });
    topButton.addEventListener('click', () => events.onTopView());
    resetButton.addEventListener('click', () => events.onResetView());
    for (const control of [this.planeSelect, this.axisUSelect, this.axisVSelect])
      control.addEventListener('change', () => this.planeControlsChanged());
    this.sliceInput.addEventListener('input', () => this.planeControlsChanged());
  }

  /** A spec is shown: its name, its outputs, and plane controls fitting its input dimension. */
  showSpec(spec: ViewSpec, dimChanged: boolean): void {
    this.spec = spec;
    const settings = this.settings;
    this.title.textContent = spec.name;
    this.outputSelect.replaceChildren(
      ...Array.from(
        { length: spec.outputUnits },
        (_, k) => new Option(spec.task === 'classification' ? `class ${k}` : `output y${k}`, String(k)),
      ),
    );
    if (settings.output >= spec.outputUnits) settings.output = 0;
    this.outputSelect.value = String(settings.output);
    this.outputSelect.hidden = spec.outputUnits < 2 || spec.task === 'classification';
    if (dimChanged || !settings.planeMode) settings.planeMode = defaultPlaneMode(spec);
    this.buildPlaneControls(spec);
  }

  private buildPlaneControls(s: ViewSpec): void {
    const axes = Array.from({ length: s.inputDim }, (_, d) => new Option(`x${d}`, String(d)));
    this.axisUSelect.replaceChildren(...axes.map((o) => new Option(o.text, o.value)));
    this.axisVSelect.replaceChildren(...axes.map((o) => new Option(o.text, o.value)));
    const mode = this.settings.planeMode;
    this.planeSelect.replaceChildren(
      ...s.regions.map((r, i) => new Option(`plane of ${r.name} (main directions)`, `principal:${i}`)),
      new Option('plane of two axes', 'axes'),
    );
    const high = s.inputDim > 3;
    this.planeSelect.hidden = !high;
    this.axisUSelect.hidden = s.inputDim === 2 || (high && mode?.kind !== 'axes');
    this.axisVSelect.hidden = this.axisUSelect.hidden;
    this.sliceInput.hidden = s.inputDim !== 3;
    this.sliceLabel.hidden = s.inputDim !== 3;
    if (mode?.kind === 'axes') {
      this.planeSelect.value = 'axes';
      this.axisUSelect.value = String(mode.axisU);
      this.axisVSelect.value = String(mode.axisV);
      if (s.inputDim === 3) {
        const normal = [0, 1, 2].find((a) => a !== mode.axisU && a !== mode.axisV) ?? 2;
        const [lo, hi] = s.domain[normal];
        this.sliceInput.value = String(Math.round(((mode.offset - lo) / (hi - lo || 1)) * 1000));
        this.sliceLabel.textContent = `slice x${normal} = ${Number(mode.offset.toPrecision(3))}`;
      }
    } else if (mode) {
      this.planeSelect.value = `principal:${mode.region}`;
    }
  }

  private planeControlsChanged(): void {
    const spec = this.spec;
    if (!spec) return;
    const axisU = Number(this.axisUSelect.value);
    let axisV = Number(this.axisVSelect.value);
    if (axisU === axisV) axisV = (axisU + 1) % spec.inputDim;
    if (spec.inputDim > 3 && this.planeSelect.value.startsWith('principal:')) {
      this.settings.planeMode = { kind: 'principal', region: Number(this.planeSelect.value.split(':')[1]) || 0 };
    } else {
      let offset = 0;
      if (spec.inputDim === 3) {
        const normal = [0, 1, 2].find((a) => a !== axisU && a !== axisV) ?? 2;
        const [lo, hi] = spec.domain[normal];
        offset = lo + ((hi - lo) * Number(this.sliceInput.value)) / 1000;
      }
      this.settings.planeMode = { kind: 'axes', axisU, axisV, offset };
    }
    this.buildPlaneControls(spec);
    this.events.onPlane();
  }
}

function defaultPlaneMode(s: ViewSpec): PlaneMode {
  if (s.inputDim === 3) return { kind: 'axes', axisU: 0, axisV: 1, offset: (s.domain[2][0] + s.domain[2][1]) / 2 };
  return { kind: 'principal', region: 0 };
}
