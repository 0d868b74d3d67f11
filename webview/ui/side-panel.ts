// The side panel: playground controls, status line, loss chart (with run comparison), constraint health, certificate
// table and the Gram heat-map.
import type { Certificate } from '../../extension/police/proof/certificate-types';
import { batchLossText } from '../../extension/police/training/loss-names';
import type { ComparedRun, LayerHealth, LossPoints, ViewGram, ViewSpec, ViewStatus } from '../../extension/protocol/messages';
import { rgbToCss, type ThemeColors } from '../colors';
import { element } from '../dom';
import { GramPanel } from '../gram-panel';
import { LossChart } from '../loss-chart';
import type { SavedState } from '../state';
import { formatHealth, formatNumber } from '../text';
import { ComparePanel } from './compare-panel';
import { TrainingControls, type ControlsEvents } from './controls';

export class SidePanel {
  private readonly controls: TrainingControls;
  private readonly statusLine: HTMLElement;
  private readonly chart: LossChart;
  private readonly comparePanel: ComparePanel;
  private readonly healthBox: HTMLElement;
  private readonly certificateBox: HTMLElement;
  private readonly gramPanel: GramPanel;
  private pendingHealth: { step: number; totalSteps: number; loss: number; health: LayerHealth[] } | undefined;
  /** The step line the next frame writes; a status from the host after the progress clears it (it is newer). */
  private pendingStepLine: string | undefined;
  private healthFrame = 0;
  private training = false;

  constructor(
    parent: HTMLElement,
    settings: SavedState,
    private theme: ThemeColors,
    persist: () => void,
    controlsEvents: ControlsEvents,
  ) {
    const side = parent.appendChild(element('aside'));
    this.controls = new TrainingControls(side.appendChild(element('div')), controlsEvents);
    this.statusLine = side.appendChild(element('div', { class: 'status' }, 'idle'));
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
    this.comparePanel = new ComparePanel(side.appendChild(element('div')), () => rgbToCss(this.theme.accent));
    side.append(element('h3', {}, 'Constraint health'));
    this.healthBox = side.appendChild(element('div', { class: 'health' }, 'no training yet'));
    side.append(element('h3', {}, 'Certificate'));
    this.certificateBox = side.appendChild(element('div', { class: 'certificate' }, 'none yet'));
    this.gramPanel = new GramPanel(side.appendChild(element('div', { class: 'gram-panel' })), settings.gramLayer, (layer) => {
      settings.gramLayer = layer;
      persist();
    });
    const chart = (this.chart = new LossChart(chartCanvas, theme));
    logCheck.checked = settings.logScale;
    chart.log = settings.logScale;
    chart.smoothing = settings.smoothing ?? chart.smoothing;
    smoothingInput.value = String(chart.smoothing);
    chart.axis = settings.lossAxis ?? 'step';
    axisSelect.value = chart.axis;
    logCheck.addEventListener('change', () => {
      settings.logScale = logCheck.checked;
      chart.log = logCheck.checked;
      chart.requestDraw();
      persist();
    });
    smoothingInput.addEventListener('input', () => {
      chart.smoothing = Math.min(0.99, Math.max(0, Number(smoothingInput.value) || 0));
      settings.smoothing = chart.smoothing;
      chart.requestDraw();
      persist();
    });
    axisSelect.addEventListener('change', () => {
      chart.axis = axisSelect.value === 'time' ? 'time' : 'step';
      settings.lossAxis = chart.axis;
      chart.requestDraw();
      persist();
    });
    document.body.dataset.lossPoints = '0';
    document.body.dataset.certificate = 'none';
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    this.chart.setTheme(theme);
  }

  /** The spec shown (again, after each edit): the controls show its settings. */
  showSpec(spec: ViewSpec): void {
    this.controls.show(spec);
  }

  /** Another spec is shown: nothing of the previous one's training stays. */
  clear(): void {
    this.chart.reset(0);
    document.body.dataset.lossPoints = '0';
    this.showCertificate(undefined);
    this.gramPanel.clear();
    this.healthBox.textContent = 'no training yet';
    this.status('idle', '');
  }

  trainingStarted(totalSteps: number, backend: string | undefined): void {
    this.chart.reset(totalSteps);
    document.body.dataset.lossPoints = '0';
    this.training = true;
    this.controls.setStatus('training');
    this.showCertificate(undefined);
    this.pendingStepLine = undefined;
    this.statusLine.textContent = `training${backend ? ` on ${backend}` : ''}…`;
  }

  progress(m: { step: number; totalSteps: number; loss: number; logged: LossPoints; health: LayerHealth[] }): void {
    this.chart.pushMany(m.logged, m.totalSteps);
    document.body.dataset.lossPoints = String(this.chart.count);
    document.body.dataset.step = String(m.step);
    this.pendingHealth = m;
    // Progress read after the training ended (done, stopped, error) must not write 'training: …' over that status.
    if (this.training) {
      const loss = Number.isFinite(m.loss) ? ` · ${batchLossText(m.loss)}` : '';
      this.pendingStepLine = `training: step ${m.step}/${m.totalSteps}${loss}`;
    }
    this.scheduleHealth();
  }

  lossHistory(points: LossPoints, totalSteps: number, health: LayerHealth[] | undefined): void {
    this.chart.setHistory(points, totalSteps);
    document.body.dataset.lossPoints = String(this.chart.count);
    if (health) this.renderHealth(health);
  }

  status(state: ViewStatus['state'], message: string): void {
    this.training = state === 'training';
    this.pendingStepLine = undefined;
    this.controls.setStatus(state);
    this.statusLine.textContent = message ? `${state}: ${message}` : state;
    this.statusLine.dataset.state = state;
    document.body.dataset.status = state;
  }

  /** Several runs side by side: their table, and every run's curve but the first over the chart. */
  comparison(runs: ComparedRun[]): void {
    this.chart.setOverlays(this.comparePanel.show(runs));
  }

  gram(message: ViewGram): void {
    this.gramPanel.show(message);
  }

  /** `stale`: the spec's regions changed since the certificate was made (it proves the old ones). */
  showCertificate(certificate: Certificate | undefined, stale = false): void {
    document.body.dataset.certificate = certificate ? (stale ? 'stale' : certificate.proved ? 'proved' : 'not-proved') : 'none';
    if (!certificate) {
      this.certificateBox.textContent = 'none yet';
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
    this.certificateBox.replaceChildren(summary, table);
  }

  /** Health bars and the step redraw once per frame, however fast progress arrives. */
  private scheduleHealth(): void {
    if (this.healthFrame) return;
    this.healthFrame = requestAnimationFrame(() => {
      this.healthFrame = 0;
      const pending = this.pendingHealth;
      if (!pending) return;
      this.renderHealth(pending.health);
      if (this.pendingStepLine !== undefined) this.statusLine.textContent = this.pendingStepLine;
      this.pendingStepLine = undefined;
    });
  }

  private renderHealth(health: LayerHealth[]): void {
    this.healthBox.replaceChildren(
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
}
