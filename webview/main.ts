// The webview app (three.js); runs in the browser sandbox of a VS Code webview. Wires the settings store, the UI
// components, the scene and the host channel (view-controller.ts holds what happens; ui/ and scene/ draw it).
// Hooks for browser and e2e tests, on document.body.dataset: state ('waiting' → 'rendered' once a spec is drawn),
// webgl ('2' | '1' | '0'), rasterizer ('gpu' | 'software': antialiased only at rest), lossPoints, step, certificate ('none' | 'proved' | 'not-proved' |
// 'stale' while the spec's regions differ from those it proves), status, comparedRuns, colorbar, cells (linear
// regions on the plane), surfaceStep, drawnSurfaceStep (the surface step on screen), frames (renders so far), dataPoints,
// boundarySegments, wireSegments (partition edges drawn), regionCells (linear regions each region meets, '-' off the
// plane), holdingCells (regions outlined with the one cell holding them), regionHulls, gramLayers/gramLayer/gramStep (the
// Gram heat-map, see gram-panel.ts); and window.policeView
// .vertexScreenPosition(region, vertex) → client pixels of a region's vertex marker (to drag it), .measureOrbit and
// .drawNow (benchmarks). Also filledCells (cells filled in 'colour: linear regions') and hoveredCell (the outlined cell).
import './view.css';
import { readThemeColors } from './colors';
import { element } from './dom';
import { connectHost } from './host-messages';
import { SceneView } from './scene/scene-view';
import { PersistedSettings, type VsCodeApi } from './state';
import { AxisOverlay } from './ui/axes';
import { Legend } from './ui/legend';
import { SidePanel } from './ui/side-panel';
import { Toolbar } from './ui/toolbar';
import { Tooltip } from './ui/tooltip';
import { ViewController } from './view-controller';

declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const settings = new PersistedSettings(vscode);
const persist = () => settings.persist();

// ---------- layout ----------
const app = document.getElementById('app') ?? document.body.appendChild(element('div', { id: 'app' }));
const toolbar = new Toolbar(app, settings.saved, {
  onStyle: () => view.styleChanged(),
  onPlane: () => view.planeChanged(),
  onTopView: () => {
    scene.topView();
    persist();
  },
  onResetView: () => {
    scene.resetView();
    persist();
  },
});
// The legend (and colour bar) in a strip above the map: it never covers it.
const legend = new Legend(app);
const main = app.appendChild(element('main'));
const sceneBox = main.appendChild(element('div', { class: 'scene' }));
const tooltip = new Tooltip(sceneBox);
const notice = sceneBox.appendChild(element('div', { class: 'notice' }, 'Open a .police.json spec and run “POLICE: Show view”.'));
let theme = readThemeColors(document.body);
const side = new SidePanel(main, settings.saved, theme, persist, {
  change: (change) => host.send({ type: 'setSetting', specUri: view.shown.specUri, change }),
  training: (action) => host.send({ type: 'training', action, specUri: view.shown.specUri }),
});
// Over the scene's own canvas (appended after it): a 2-D spec's axis ticks, drawn after each frame at the scene's projection.
const axesCanvas = element('canvas');
const axes = new AxisOverlay(axesCanvas, { planeScreenPosition: (u, v) => scene.planeScreenPosition(u, v) });

const scene = new SceneView(sceneBox, theme, {
  onHover: (point, x, y) => view.showHover(point, x, y),
  onVertexDrop: (region, vertex, from, to) => host.send({ type: 'moveVertex', specUri: view.shown.specUri, region, vertex, from, to }),
  onRendered: () => {
    document.body.dataset.frames = String(Number(document.body.dataset.frames ?? '0') + 1);
    axes.draw(view.shown.spec?.inputDim === 2 ? view.shown.choice?.window : undefined, ['x0', 'x1'], theme);
    if (view.shown.spec) document.body.dataset.state = 'rendered';
    if (view.shown.surface) document.body.dataset.drawnSurfaceStep = String(view.shown.surface.step);
  },
});
sceneBox.appendChild(axesCanvas);
settings.camera = () => scene.cameraState();
document.body.dataset.webgl = String(scene.webgl);
document.body.dataset.rasterizer = scene.software ? 'software' : 'gpu';
document.body.dataset.state = 'waiting';
if (scene.webgl === 0) notice.textContent = 'WebGL is not available: the 3-D view is off; the loss and certificate panels still work.';
if (settings.saved.camera) scene.restoreCamera(settings.saved.camera);

const host = connectHost(vscode, () => view, side);
const view: ViewController = new ViewController(settings, { scene, toolbar, legend, tooltip, side, notice }, host);

window.addEventListener('pointerup', () => persist());
new MutationObserver(() => {
  theme = readThemeColors(document.body);
  scene.setTheme(theme);
  side.setTheme(theme);
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

// Test hook for browser/e2e tests: where to put the mouse to drag a vertex.
(window as unknown as { policeView: unknown }).policeView = {
  vertexScreenPosition: (region: number, vertex: number) => scene.vertexScreenPosition(region, vertex),
  measureOrbit: (frames: number, moving?: boolean) => scene.measureOrbit(frames, moving),
  drawNow: (moving?: boolean) => scene.drawNow(moving),
};

host.send({ type: 'ready' });
