// The legend, a strip above the map (never over it): regions (and whether each lies inside one linear region), classes,
// partition notes with the kept step, and the colour bar in value mode.
import type { ViewSpec, ViewSurface } from '../../extension/protocol/messages';
import { keptStepText } from '../../extension/police/training/loss-names';
import { classColor, regionColor, rgbToCss } from '../colors';
import { element } from '../dom';
import { formatNumber } from '../text';

export interface LegendExtras {
  /** A finished run's kept step of its steps trained. */
  kept?: { step: number; of: number };
  /** The value colour map's ends and the output they colour, when the surface is coloured by value. */
  colorBar?: { range: [number, number]; output: number };
}

export class Legend {
  private readonly box: HTMLElement;

  constructor(parent: HTMLElement) {
    this.box = parent.appendChild(element('div', { class: 'legend' }));
  }

  render(spec: ViewSpec | undefined, surface: ViewSurface | undefined, extras: LegendExtras = {}): void {
    if (!spec) return;
    const items: HTMLElement[] = [];
    spec.regions.forEach((region, r) => {
      const item = element('div', { class: 'legend-item' });
      item.append(
        element('span', { class: 'swatch', style: `background: ${rgbToCss(regionColor(r))}` }),
        `${region.name}${region.draggable ? ' (drag its vertices)' : ''}`,
      );
      // Theorem 1 made visible: a region POLICE holds affine lies inside one linear region of the partition.
      const meets = surface?.regionCells[r]?.meets;
      if (meets !== undefined)
        item.append(
          element(
            'span',
            { class: meets === 1 ? 'region-cells status-proved' : 'region-cells status-not-proved' },
            meets === 1 ? ' · inside one linear region' : ` · meets ${meets} linear regions`,
          ),
        );
      items.push(item);
    });
    document.body.dataset.regionCells = surface ? surface.regionCells.map((cells) => (cells ? String(cells.meets) : '-')).join(',') : '';
    if (spec.task === 'classification') {
      for (let k = 0; k < spec.outputUnits; k++) {
        const item = element('div', { class: 'legend-item' });
        item.append(element('span', { class: 'swatch', style: `background: ${rgbToCss(classColor(k))}` }), `class ${k}`);
        items.push(item);
      }
    }
    if (surface) {
      const where = spec.inputDim === 2 ? '' : spec.inputDim === 3 ? ' on the slice' : ' on the plane';
      const kept = extras.kept;
      const step = kept && kept.step === surface.step ? keptStepText(kept.step, kept.of) : `step ${surface.step}`;
      items.push(element('div', { class: 'legend-note' }, `${surface.cellCount} linear regions${where} · ${step}`));
      if (surface.cellCount > surface.cells.count)
        items.push(element('div', { class: 'legend-note' }, 'more than the view draws: surface exact, edges, fills and hover maps off'));
      if (surface.partitionError) items.push(element('div', { class: 'legend-note warn' }, surface.partitionError));
    }
    if (spec.inputDim > 3) items.push(element('div', { class: 'legend-note' }, 'regions and data are projected onto the plane'));
    // Value mode of a regression: what the colours mean.
    const colorBar = surface && spec.task === 'regression' ? extras.colorBar : undefined;
    if (colorBar) {
      const [lo, hi] = colorBar.range;
      const bar = element('div', { class: 'colorbar', title: `output y${colorBar.output}` });
      bar.append(element('span', {}, formatNumber(lo)), element('span', { class: 'ramp' }), element('span', {}, formatNumber(hi)));
      items.push(bar);
    }
    document.body.dataset.colorbar = String(colorBar !== undefined);
    this.box.replaceChildren(...items);
  }
}
