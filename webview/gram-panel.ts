// The side panel's Gram heat-map: cosines between one layer's filters on a 2-D canvas, with a layer selector.
// Test hooks on document.body.dataset: gramLayers (layers offered), gramLayer (1-based layer drawn), gramStep.
import type { ViewGram, ViewGramLayer } from '../extension/protocol/messages';
import { formatNumber } from './text';

const SIZE = 160;

/** Same map as the report's PNGs: blue (−1), white (0), red (+1). */
export function cosineColor(value: number): [number, number, number] {
  const t = Math.max(-1, Math.min(1, Number.isFinite(value) ? value : 0));
  const fade = (c: number): number => Math.round(255 - (255 - c) * Math.abs(t));
  return t >= 0 ? [fade(200), fade(40), fade(40)] : [fade(40), fade(80), fade(200)];
}

export class GramPanel {
  private readonly select: HTMLSelectElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly caption: HTMLDivElement;
  private layers: ViewGramLayer[] = [];
  private selected: number;

  /** `initialLayer` and `onSelect` keep the user's choice of layer across reloads (the view's setState). */
  constructor(
    container: HTMLElement,
    initialLayer: number | undefined,
    private readonly onSelect: (layer: number) => void,
  ) {
    this.selected = initialLayer ?? -1;
    const header = container.appendChild(document.createElement('div'));
    header.className = 'section-header';
    const heading = header.appendChild(document.createElement('h3'));
    heading.textContent = 'Filter cosines (Gram)';
    this.select = header.appendChild(document.createElement('select'));
    this.select.setAttribute('aria-label', 'Layer of the Gram heat-map');
    this.select.title = 'Layer whose filters are compared';
    this.canvas = container.appendChild(document.createElement('canvas'));
    this.canvas.className = 'gram';
    this.canvas.setAttribute('aria-label', 'Cosines between the filters of the layer');
    this.caption = container.appendChild(document.createElement('div'));
    this.caption.className = 'gram-caption';
    this.caption.textContent = 'no trained network yet';
    this.select.addEventListener('change', () => {
      this.selected = Number(this.select.value);
      this.onSelect(this.selected);
      this.draw();
    });
    this.canvas.addEventListener('mousemove', (event) => this.hover(event));
    this.clear();
  }

  show(message: ViewGram): void {
    this.layers = message.layers;
    document.body.dataset.gramLayers = String(message.layers.length);
    document.body.dataset.gramStep = String(message.step);
    this.select.replaceChildren(
      ...message.layers.map((l) => new Option(`layer ${l.layer + 1} (${l.units} ${l.activation})`, String(l.layer))),
    );
    if (!message.layers.some((l) => l.layer === this.selected)) this.selected = message.layers[0]?.layer ?? -1;
    this.select.value = String(this.selected);
    this.select.hidden = message.layers.length === 0;
    this.draw();
  }

  clear(): void {
    this.layers = [];
    this.select.replaceChildren();
    this.select.hidden = true;
    this.canvas.hidden = true;
    this.caption.textContent = 'no trained network yet';
    document.body.dataset.gramLayers = '0';
    delete document.body.dataset.gramLayer;
  }

  private current(): ViewGramLayer | undefined {
    return this.layers.find((l) => l.layer === this.selected);
  }

  private draw(): void {
    const layer = this.current();
    if (!layer || layer.shown === 0) {
      this.canvas.hidden = true;
      this.caption.textContent = this.layers.length ? 'no layer selected' : 'no layer with two or more units';
      delete document.body.dataset.gramLayer;
      return;
    }
    this.canvas.hidden = false;
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(SIZE * ratio);
    this.canvas.height = Math.round(SIZE * ratio);
    const context = this.canvas.getContext('2d');
    if (!context) return;
    // Each cosine fills its square of the canvas exactly (integer pixel edges, so cells stay sharp).
    const n = layer.shown;
    const edge = (k: number): number => Math.round((k * this.canvas.width) / n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const [r, g, b] = cosineColor(layer.cosine[i]?.[j] ?? 0);
        context.fillStyle = `rgb(${r}, ${g}, ${b})`;
        context.fillRect(edge(j), edge(i), edge(j + 1) - edge(j), edge(i + 1) - edge(i));
      }
    }
    const subset = layer.shown < layer.units ? ` (first ${layer.shown} of ${layer.units} filters)` : '';
    const metric = layer.metric === undefined ? '' : ` · ‖WWᵀ − diag‖/‖WWᵀ‖ = ${formatNumber(layer.metric)}`;
    this.caption.textContent = `layer ${layer.layer + 1}, ${layer.activation}${subset}${metric}; red +1, white 0, blue −1`;
    document.body.dataset.gramLayer = String(layer.layer + 1);
  }

  private hover(event: MouseEvent): void {
    const layer = this.current();
    if (!layer) return;
    const box = this.canvas.getBoundingClientRect();
    const j = Math.floor(((event.clientX - box.left) / box.width) * layer.shown);
    const i = Math.floor(((event.clientY - box.top) / box.height) * layer.shown);
    const value = layer.cosine[i]?.[j];
    this.canvas.title = value === undefined ? '' : `filters ${i + 1} and ${j + 1}: cosine ${formatNumber(value)}`;
  }
}
