// The webview app (three.js); runs in the browser sandbox of a VS Code webview.
// Hooks for browser and e2e tests, on document.body.dataset: state ('waiting' → 'rendered' once a spec is drawn),
// webgl ('2' | '1' | '0'), rasterizer ('gpu' | 'software': antialiased only at rest), lossPoints, step, certificate ('none' | 'proved' | 'not-proved'), status, cells (linear
// regions on the plane; certificate is 'stale' while the spec's regions differ from those it proves), surfaceStep, drawnSurfaceStep (the surface step on screen), frames (renders so far), dataPoints,
// boundarySegments, wireSegments (partition edges drawn), regionCells (linear regions each region meets, '-' off the
// plane), holdingCells (regions outlined with the one cell holding them), regionHulls, gramLayers/gramLayer/gramStep (the
// Gram heat-map, see gram-panel.ts); and window.policeView
// .vertexScreenPosition(region, vertex) → client pixels of a region's vertex marker (to drag it).
import './view.css';
import { MessageChannel } from '../extension/protocol/channel';
import type { Certificate } from '../extension/police/proof/certificate-types';
import type {
  CellInputMap,
  HostToWebview,
  LayerHealth,
  ViewShowData,
  ViewSpec,
  ViewSurface,
  WebviewToHost,
} from '../extension/protocol/messages';
import { classColor, readThemeColors, regionColor, rgbToCss } from './colors';
import {
  cellRegionDistances,
  cellValue,
  choosePlane,
  findCell,
  planePoint,
  type PlaneChoice,
  type PlaneMode,
} from '../extension/common/view-geometry';
import { GramPanel } from './gram-panel';
import { TrainingControls } from './controls';
import { ComparePanel } from './compare-panel';
import { AxisOverlay } from './axes';
import { LossChart, type LossAxis } from './loss-chart';
import { SceneView, type ColorMode, type HoverPoint } from './scene';
import { describeCell, formatHealth, formatNumber } from './text';
import { batchLossText, keptStepText } from '../extension/police/training/loss-names';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** What survives hiding the panel and reloading VS Code (the serializer hands specUri/runDir to the host). */
interface SavedState {
  specUri?: string;
  runDir?: string;
  output: number;
  colorMode: ColorMode;
  wireframe: boolean;
  logScale: boolean;
  /** The loss chart's moving-average weight and its x axis. */
  smoothing?: number;
  lossAxis?: LossAxis;
  planeMode?: PlaneMode;
  /** 0-based layer shown in the Gram heat-map. */
  gramLayer?: number;
  camera?: { position: number[]; target: number[] };
}

const RESOLUTION = 200;
const vscode = acquireVsCodeApi();
const saved = (vscode.getState() as Partial<SavedState> | undefined) ?? {};
const state: SavedState = { ...{ output: 0, colorMode: 'value' as ColorMode, wireframe: true, logScale: true }, ...saved };

function persist(): void {
  vscode.setState({ ...state, camera: scene.cameraState() });
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    // Inline style attributes are blocked by the webview's CSP; the CSSOM is not.
    if (key === 'style') node.style.cssText = value;
    else node.setAttribute(key, value);
  }
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---------- layout ----------
const app = document.getElementById('app') ?? document.body.appendChild(element('div', { id: 'app' }));
const toolbar = app.appendChild(element('header', { class: 'toolbar' }));
const title = toolbar.appendChild(element('span', { class: 'title' }, 'POLICE view'));
const outputSelect = toolbar.appendChild(element('select', { title: 'Output shown as the surface', 'aria-label': 'Output' }));
const colorSelect = toolbar.appendChild(element('select', { title: 'Surface colour', 'aria-label': 'Colour' }));
colorSelect.append(new Option('colour: value', 'value'), new Option('colour: linear regions', 'cells'));
const wireLabel = toolbar.appendChild(element('label', { title: 'Draw the exact linear-region partition on the surface' }));
const wireCheck = wireLabel.appendChild(element('input', { type: 'checkbox' }));
wireLabel.append(' partition');
const planeSelect = toolbar.appendChild(element('select', { title: 'Plane through the input space', 'aria-label': 'Plane' }));
const axisUSelect = toolbar.appendChild(element('select', { title: 'First axis', 'aria-label': 'First axis' }));
const axisVSelect = toolbar.appendChild(element('select', { title: 'Second axis', 'aria-label': 'Second axis' }));
const sliceInput = toolbar.appendChild(
  element('input', { type: 'range', min: '0', max: '1000', value: '500', title: 'Slice position', 'aria-label': 'Slice position' }),
);
const sliceLabel = toolbar.appendChild(element('span', { class: 'slice-label' }));
const topButton = toolbar.appendChild(element('button', { title: 'Look straight down on the plane' }, 'Top view'));
const resetButton = toolbar.appendChild(element('button', { title: 'Back to the default camera' }, 'Reset view'));
// The legend (and colour bar) in a strip above the map: it never covers it.
const legend = app.appendChild(element('div', { class: 'legend' }));
const main = app.appendChild(element('main'));
const sceneBox = main.appendChild(element('div', { class: 'scene' }));
const tooltip = sceneBox.appendChild(element('div', { class: 'tooltip', hidden: '' }));
const notice = sceneBox.appendChild(element('div', { class: 'notice' }, 'Open a .police.json spec and run “POLICE: Show view”.'));
const side = main.appendChild(element('aside'));
const controls = new TrainingControls(side.appendChild(element('div')), {
  change: (change) => channel.send({ type: 'setSetting', specUri, change }),
  training: (action) => channel.send({ type: 'training', action, specUri }),
});
const statusLine = side.appendChild(element('div', { class: 'status' }, 'idle'));
const chartHeader = side.appendChild(element('div', { class: 'section-header' }));
chartHeader.append(element('h3', {}, 'Loss'));
const logLabel = chartHeader.appendChild(element('label'));
const logCheck = logLabel.appendChild(element('input', { type: 'checkbox' }));
logLabel.append(' log scale');
const smoothingInput = chartHeader.appendChild(
  element('input', {
    type: 'range',
    min: '0',
    max: '0.99',
    step: '0.01',
    class: 'smoothing',
    title: 'Smoothing of the batch losses (moving-average weight)',
    'aria-label': 'Smoothing',
  }),
);
const axisSelect = chartHeader.appendChild(element('select', { title: 'x axis of the loss chart', 'aria-label': 'Loss chart x axis' }));
axisSelect.append(new Option('x: step', 'step'), new Option('x: wall time', 'time'));
const chartCanvas = side.appendChild(element('canvas', { class: 'loss-chart', 'aria-label': 'Loss curve' }));
const comparePanel = new ComparePanel(side.appendChild(element('div')), () => rgbToCss(theme.accent));
side.append(element('h3', {}, 'Constraint health'));
const healthBox = side.appendChild(element('div', { class: 'health' }, 'no training yet'));
side.append(element('h3', {}, 'Certificate'));
const certificateBox = side.appendChild(element('div', { class: 'certificate' }, 'none yet'));
const gramPanel = new GramPanel(side.appendChild(element('div', { class: 'gram-panel' })), state.gramLayer, (layer) => {
  state.gramLayer = layer;
  persist();
});

let theme = readThemeColors(document.body);
const chart = new LossChart(chartCanvas, theme);
let spec: ViewSpec | undefined;
let specUri = state.specUri ?? '';
let choice: PlaneChoice | undefined;
let surface: ViewSurface | undefined;
/** Input-space maps of the current surface's cells as the worker answered them, or 'asked' while on their way. */
const cellMaps = new Map<number, CellInputMap | 'asked'>();
/** The last hover, to redraw the tooltip when its cell's map arrives. */
let hovered: [HoverPoint, number, number] | undefined;
let pendingHealth: { step: number; totalSteps: number; loss: number; health: LayerHealth[] } | undefined;
/** A finished run's kept step of its steps trained (the legend names it when it is not the last). */
let kept: { step: number; of: number } | undefined;
let healthFrame = 0;
// Over the scene's own canvas (appended after it): ticks drawn after each frame at the scene's projection.
const axesCanvas = element('canvas');
const axes = new AxisOverlay(axesCanvas, { planeScreenPosition: (u, v) => scene.planeScreenPosition(u, v) });

const scene = new SceneView(sceneBox, theme, {
  onHover: (point, x, y) => showHover(point, x, y),
  onVertexDrop: (region, vertex, from, to) => channel.send({ type: 'moveVertex', specUri, region, vertex, from, to }),
  onRendered: () => {
    document.body.dataset.frames = String(Number(document.body.dataset.frames ?? '0') + 1);
    axes.draw(spec?.inputDim === 2 ? choice?.window : undefined, ['x0', 'x1'], theme);
    if (spec) document.body.dataset.state = 'rendered';
    if (surface) document.body.dataset.drawnSurfaceStep = String(surface.step);
  },
});
sceneBox.appendChild(axesCanvas);
document.body.dataset.webgl = String(scene.webgl);
document.body.dataset.rasterizer = scene.software ? 'software' : 'gpu';
document.body.dataset.lossPoints = '0';
document.body.dataset.certificate = 'none';
document.body.dataset.state = 'waiting';
if (scene.webgl === 0) notice.textContent = 'WebGL is not available: the 3-D view is off; the loss and certificate panels still work.';
if (state.camera) scene.restoreCamera(state.camera);

const channel = new MessageChannel<WebviewToHost, HostToWebview>(
  (message) => vscode.postMessage(message),
  {
    spec: (m) => showSpec(m.spec, m.specUri),
    data: (m) => showData(m),
    trainingStarted: (m) => {
      chart.reset(m.totalSteps);
      document.body.dataset.lossPoints = '0';
      kept = undefined;
      controls.setStatus('training');
      showCertificate(undefined);
      statusLine.textContent = `training${m.backend ? ` on ${m.backend}` : ''}…`;
    },
    progress: (m) => {
      chart.pushMany(m.logged, m.totalSteps);
      document.body.dataset.lossPoints = String(chart.count);
      document.body.dataset.step = String(m.step);
      pendingHealth = m;
      scheduleHealth();
    },
    lossHistory: (m) => {
      chart.setHistory(m.points, m.totalSteps);
      document.body.dataset.lossPoints = String(chart.count);
      if (m.health) renderHealth(m.health);
    },
    surface: (m) => showSurface(m.surface),
    cellMap: (m) => {
      if (m.surfaceId !== surface?.surfaceId) return;
      // null: the worker dropped that surface; forget the ask so the next hover asks again.
      if (m.map) cellMaps.set(m.cell, m.map);
      else cellMaps.delete(m.cell);
      if (hovered) showHover(...hovered);
    },
    certificate: (m) => showCertificate(m.certificate, m.stale),
    comparison: (m) => chart.setOverlays(comparePanel.show(m.runs)),
    gram: (m) => gramPanel.show(m),
    status: (m) => {
      statusLine.textContent = m.message ? `${m.state}: ${m.message}` : m.state;
      statusLine.dataset.state = m.state;
      document.body.dataset.status = m.state;
      kept = m.kept;
      controls.setStatus(m.state);
      renderLegend();
      if (m.runDir) {
        state.runDir = m.runDir;
        persist();
      }
    },
  },
  (raw, reason) =>
    channel.send({ type: 'log', level: 'warn', message: `view ignored a message (${reason}): ${JSON.stringify(raw).slice(0, 200)}` }),
);
window.addEventListener('message', (event: MessageEvent) => channel.receive(event.data));

// ---------- toolbar ----------
wireCheck.checked = state.wireframe;
logCheck.checked = state.logScale;
chart.log = state.logScale;
chart.smoothing = state.smoothing ?? chart.smoothing;
smoothingInput.value = String(chart.smoothing);
chart.axis = state.lossAxis ?? 'step';
axisSelect.value = chart.axis;
smoothingInput.addEventListener('input', () => {
  chart.smoothing = Math.min(0.99, Math.max(0, Number(smoothingInput.value) || 0));
  state.smoothing = chart.smoothing;
  chart.requestDraw();
  persist();
});
axisSelect.addEventListener('change', () => {
  chart.axis = axisSelect.value === 'time' ? 'time' : 'step';
  state.lossAxis = chart.axis;
  chart.requestDraw();
  persist();
});
colorSelect.value = state.colorMode;
wireCheck.addEventListener('change', () => {
  state.wireframe = wireCheck.checked;
  applyStyle();
});
colorSelect.addEventListener('change', () => {
  state.colorMode = colorSelect.value === 'cells' ? 'cells' : 'value';
  applyStyle();
});
outputSelect.addEventListener('change', () => {
  state.output = Number(outputSelect.value) || 0;
  applyStyle();
});
logCheck.addEventListener('change', () => {
  state.logScale = logCheck.checked;
  chart.log = logCheck.checked;
  chart.requestDraw();
  persist();
});
topButton.addEventListener('click', () => {
  scene.topView();
  persist();
});
resetButton.addEventListener('click', () => {
  scene.resetView();
  persist();
});
for (const control of [planeSelect, axisUSelect, axisVSelect]) control.addEventListener('change', () => planeControlsChanged());
sliceInput.addEventListener('input', () => planeControlsChanged());
window.addEventListener('pointerup', () => persist());

new MutationObserver(() => {
  theme = readThemeColors(document.body);
  scene.setTheme(theme);
  chart.setTheme(theme);
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

function applyStyle(): void {
  scene.setStyle({ output: state.output, colorMode: state.colorMode, wireframe: state.wireframe });
  renderLegend();
  persist();
}

// ---------- spec, plane, surface ----------
function showSpec(next: ViewSpec, uri: string): void {
  if (next.inputDim < 2) {
    notice.hidden = false;
    notice.textContent = `${next.name}: the view draws inputs of dimension 2 or more (this spec has ${next.inputDim}).`;
    return;
  }
  const dimChanged = spec?.inputDim !== next.inputDim || specUri !== uri;
  if (specUri !== uri) {
    state.runDir = undefined;
    // Another spec: nothing drawn for the previous one may stay (the host sends this one's data and runs).
    surface = undefined;
    scene.clearContent();
    chart.reset(0);
    document.body.dataset.lossPoints = '0';
    showCertificate(undefined);
    gramPanel.clear();
    healthBox.textContent = 'no training yet';
    statusLine.textContent = 'idle';
    statusLine.dataset.state = 'idle';
    document.body.dataset.status = 'idle';
    kept = undefined;
  }
  spec = next;
  specUri = uri;
  controls.show(next);
  state.specUri = uri;
  notice.hidden = true;
  title.textContent = next.name;
  outputSelect.replaceChildren(
    ...Array.from(
      { length: next.outputUnits },
      (_, k) => new Option(next.task === 'classification' ? `class ${k}` : `output y${k}`, String(k)),
    ),
  );
  if (state.output >= next.outputUnits) state.output = 0;
  outputSelect.value = String(state.output);
  outputSelect.hidden = next.outputUnits < 2 || next.task === 'classification';
  if (dimChanged || !state.planeMode) state.planeMode = defaultPlaneMode(next);
  buildPlaneControls(next);
  updatePlane(true);
  scene.setStyle({ output: state.output, colorMode: state.colorMode, wireframe: state.wireframe });
  renderLegend();
  persist();
}

function defaultPlaneMode(s: ViewSpec): PlaneMode {
  if (s.inputDim === 3) return { kind: 'axes', axisU: 0, axisV: 1, offset: (s.domain[2][0] + s.domain[2][1]) / 2 };
  return { kind: 'principal', region: 0 };
}

function buildPlaneControls(s: ViewSpec): void {
  const axes = Array.from({ length: s.inputDim }, (_, d) => new Option(`x${d}`, String(d)));
  axisUSelect.replaceChildren(...axes.map((o) => new Option(o.text, o.value)));
  axisVSelect.replaceChildren(...axes.map((o) => new Option(o.text, o.value)));
  const mode = state.planeMode;
  planeSelect.replaceChildren(
    ...s.regions.map((r, i) => new Option(`plane of ${r.name} (main directions)`, `principal:${i}`)),
    new Option('plane of two axes', 'axes'),
  );
  const high = s.inputDim > 3;
  planeSelect.hidden = !high;
  axisUSelect.hidden = s.inputDim === 2 || (high && mode?.kind !== 'axes');
  axisVSelect.hidden = axisUSelect.hidden;
  sliceInput.hidden = s.inputDim !== 3;
  sliceLabel.hidden = s.inputDim !== 3;
  if (mode?.kind === 'axes') {
    planeSelect.value = 'axes';
    axisUSelect.value = String(mode.axisU);
    axisVSelect.value = String(mode.axisV);
    if (s.inputDim === 3) {
      const normal = [0, 1, 2].find((a) => a !== mode.axisU && a !== mode.axisV) ?? 2;
      const [lo, hi] = s.domain[normal];
      sliceInput.value = String(Math.round(((mode.offset - lo) / (hi - lo || 1)) * 1000));
      sliceLabel.textContent = `slice x${normal} = ${Number(mode.offset.toPrecision(3))}`;
    }
  } else if (mode) {
    planeSelect.value = `principal:${mode.region}`;
  }
}

function planeControlsChanged(): void {
  if (!spec) return;
  const axisU = Number(axisUSelect.value);
  let axisV = Number(axisVSelect.value);
  if (axisU === axisV) axisV = (axisU + 1) % spec.inputDim;
  if (spec.inputDim > 3 && planeSelect.value.startsWith('principal:')) {
    state.planeMode = { kind: 'principal', region: Number(planeSelect.value.split(':')[1]) || 0 };
  } else {
    let offset = 0;
    if (spec.inputDim === 3) {
      const normal = [0, 1, 2].find((a) => a !== axisU && a !== axisV) ?? 2;
      const [lo, hi] = spec.domain[normal];
      offset = lo + ((hi - lo) * Number(sliceInput.value)) / 1000;
    }
    state.planeMode = { kind: 'axes', axisU, axisV, offset };
  }
  buildPlaneControls(spec);
  updatePlane(false);
  persist();
}

function updatePlane(specChanged: boolean): void {
  if (!spec || !state.planeMode) return;
  const next = choosePlane(
    spec.inputDim,
    spec.domain,
    spec.regions.map((r) => r.vertices),
    state.planeMode,
  );
  const changed = JSON.stringify(next) !== JSON.stringify(choice);
  choice = next;
  scene.setSpec(spec, next.plane, next.window);
  if (changed || specChanged) channel.send({ type: 'setPlane', plane: next.plane, window: next.window, resolution: RESOLUTION });
}

function showData(data: ViewShowData): void {
  scene.setData(data);
  document.body.dataset.dataPoints = String(data.count);
}

function showSurface(next: ViewSurface): void {
  // A surface computed for a plane the user has since left is dropped, not drawn.
  if (choice && JSON.stringify(next.plane) !== JSON.stringify(choice.plane)) return;
  const sameGrid = surface?.resolution === next.resolution;
  surface = next;
  cellMaps.clear();
  scene.setSurface(next);
  document.body.dataset.cells = String(next.cellCount);
  document.body.dataset.surfaceStep = String(next.step);
  renderLegend();
  // A tooltip left open describes the new surface (and asks for its cell's map); a new grid needs a new hover.
  if (hovered && sameGrid) showHover(...hovered);
  else showHover(undefined, 0, 0);
}

// ---------- side panels ----------
function scheduleHealth(): void {
  if (healthFrame) return;
  healthFrame = requestAnimationFrame(() => {
    healthFrame = 0;
    if (!pendingHealth) return;
    renderHealth(pendingHealth.health);
    const loss = Number.isFinite(pendingHealth.loss) ? ` · ${batchLossText(pendingHealth.loss)}` : '';
    statusLine.textContent = `training: step ${pendingHealth.step}/${pendingHealth.totalSteps}${loss}`;
  });
}

function renderHealth(health: LayerHealth[]): void {
  healthBox.replaceChildren(
    ...formatHealth(health).map((row) => {
      const line = element('div', { class: 'health-row' });
      line.append(element('span', { class: 'health-label' }, row.label));
      const bar = line.appendChild(element('span', { class: 'bar' }));
      bar.appendChild(element('span', { class: 'fill', style: `width: ${(100 * row.fraction).toFixed(1)}%` }));
      line.append(element('span', { class: 'health-detail' }, row.detail));
      return line;
    }),
  );
}

function showCertificate(certificate: Certificate | undefined, stale = false): void {
  document.body.dataset.certificate = certificate ? (stale ? 'stale' : certificate.proved ? 'proved' : 'not-proved') : 'none';
  if (!certificate) {
    certificateBox.textContent = 'none yet';
    return;
  }
  const table = element('table');
  const head = table.appendChild(element('tr'));
  for (const h of ['region', 'status', 'min margin', 'residual']) head.append(element('th', {}, h));
  for (const region of certificate.regions) {
    const row = table.appendChild(element('tr', { 'data-status': region.status }));
    row.append(
      element('td', {}, region.name),
      element(
        'td',
        { class: `status-${region.status}` },
        region.status === 'proved' ? '✔ proved' : region.status === 'approximate' ? '≈ approximate' : '✘ not proved',
      ),
      element('td', {}, formatNumber(region.minMargin)),
      element('td', {}, formatNumber(region.maxResidual)),
    );
  }
  const summary = element(
    'div',
    { class: certificate.proved ? 'status-proved' : 'status-not-proved' },
    certificate.proved ? 'affine on every region: proved' : 'not proved on every region',
  );
  // After a vertex drag the certificate is about the old regions: say so until a training proves the new ones.
  if (stale) {
    summary.className = 'status-stale';
    summary.textContent = `stale: ${certificate.proved ? 'proved' : 'not proved'} for the regions before your edit; train again to certify these`;
    table.classList.add('stale');
  }
  certificateBox.replaceChildren(summary, table);
}

function renderLegend(): void {
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
    const step = kept && kept.step === surface.step ? keptStepText(kept.step, kept.of) : `step ${surface.step}`;
    items.push(element('div', { class: 'legend-note' }, `${surface.cellCount} linear regions${where} · ${step}`));
    if (surface.cellCount > surface.cells.count)
      items.push(element('div', { class: 'legend-note' }, 'too many to draw: surface exact, edges and hover maps off'));
    if (surface.partitionError) items.push(element('div', { class: 'legend-note warn' }, surface.partitionError));
  }
  if (spec.inputDim > 3) items.push(element('div', { class: 'legend-note' }, 'regions and data are projected onto the plane'));
  // Value mode: what the colours mean.
  if (surface && spec.task === 'regression' && state.colorMode === 'value') {
    const [lo, hi] = scene.colorRange();
    const bar = element('div', { class: 'colorbar', title: `output y${state.output}` });
    bar.append(element('span', {}, formatNumber(lo)), element('span', { class: 'ramp' }), element('span', {}, formatNumber(hi)));
    items.push(bar);
  }
  document.body.dataset.colorbar = String(items.some((item) => item.classList.contains('colorbar')));
  legend.replaceChildren(...items);
}

function showHover(point: HoverPoint | undefined, clientX: number, clientY: number): void {
  hovered = point ? [point, clientX, clientY] : undefined;
  if (!point || !surface || !spec || !choice) {
    tooltip.hidden = true;
    return;
  }
  const cells = surface.cells;
  const index = findCell(cells, surface.cellIndex[point.grid] ?? -1, point.u, point.v, 1e-6);
  const x = planePoint(surface.plane, point.u, point.v);
  const outputs = surface.outputs;
  // Exact from the cell's map when the cell is known, else the nearest grid sample.
  const y =
    index >= 0
      ? Array.from({ length: outputs }, (_, k) => cellValue(cells, index, k, point.u, point.v))
      : Array.from(surface.values.subarray(point.grid * outputs, (point.grid + 1) * outputs));
  // The input-space map costs a pass through the weights: the worker computes it for the hovered cell only.
  if (index >= 0 && !cellMaps.has(index)) {
    cellMaps.set(index, 'asked');
    channel.send({ type: 'askCellMap', surfaceId: surface.surfaceId, cell: index });
  }
  const map = cellMaps.get(index);
  const lines = describeCell({
    x,
    y,
    cellIndex: index,
    regionDistances: index >= 0 ? cellRegionDistances(cells, index) : undefined,
    map: map === 'asked' ? undefined : map,
    regionNames: spec.regions.map((r) => r.name),
  });
  if (index < 0 && surface.cellCount > cells.count)
    lines[lines.length - 1] = `one of ${surface.cellCount} linear regions (too many to list their maps)`;
  tooltip.replaceChildren(...lines.map((line) => element('div', {}, line)));
  tooltip.hidden = false;
  const box = sceneBox.getBoundingClientRect();
  tooltip.style.left = `${Math.min(clientX - box.left + 14, box.width - 260)}px`;
  tooltip.style.top = `${Math.min(clientY - box.top + 14, box.height - 120)}px`;
}

// Test hook for browser/e2e tests: where to put the mouse to drag a vertex.
(window as unknown as { policeView: unknown }).policeView = {
  vertexScreenPosition: (region: number, vertex: number) => scene.vertexScreenPosition(region, vertex),
  measureOrbit: (frames: number, moving?: boolean) => scene.measureOrbit(frames, moving),
};

channel.send({ type: 'ready' });
