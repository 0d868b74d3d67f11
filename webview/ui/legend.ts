// The legend over the scene: regions (and whether each lies inside one linear region), classes, partition notes.
import type { ViewSpec, ViewSurface } from '../../extension/protocol/messages';
import { classColor, regionColor, rgbToCss } from '../colors';
import { element } from '../dom';

export class Legend {
  private readonly box: HTMLElement;

  constructor(parent: HTMLElement) {
    this.box = parent.appendChild(element('div', { class: 'legend' }));
  }

  render(spec: ViewSpec | undefined, surface: ViewSurface | undefined): void {
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
      items.push(element('div', { class: 'legend-note' }, `${surface.cellCount} linear regions${where} · step ${surface.step}`));
      if (surface.cellCount > surface.cells.count)
        items.push(element('div', { class: 'legend-note' }, 'more than the view draws: surface exact, edges, fills and hover maps off'));
      if (surface.partitionError) items.push(element('div', { class: 'legend-note warn' }, surface.partitionError));
    }
    if (spec.inputDim > 3) items.push(element('div', { class: 'legend-note' }, 'regions and data are projected onto the plane'));
    this.box.replaceChildren(...items);
  }
}
