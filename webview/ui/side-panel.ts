// The side panel: status line, loss chart, constraint health, certificate table and the Gram heat-map.
import type { Certificate } from '../../extension/police/proof/certificate-types';
import type { LayerHealth, ViewGram } from '../../extension/protocol/messages';
import type { ThemeColors } from '../colors';
import { element } from '../dom';
import { GramPanel } from '../gram-panel';
import { LossChart } from '../loss-chart';
import type { SavedState } from '../state';
import { formatHealth, formatNumber } from '../text';

export class SidePanel {
  private readonly statusLine: HTMLElement;
  private readonly chart: LossChart;
  private readonly healthBox: HTMLElement;
  private readonly certificateBox: HTMLElement;
  private readonly gramPanel: GramPanel;
  private pendingHealth: { step: number; totalSteps: number; health: LayerHealth[] } | undefined;
  private healthFrame = 0;

  constructor(parent: HTMLElement, settings: SavedState, theme: ThemeColors, persist: () => void) {
    const side = parent.appendChild(element('aside'));
    this.statusLine = side.appendChild(element('div', { class: 'status' }, 'idle'));
    const chartHeader = side.appendChild(element('div', { class: 'section-header' }));
    chartHeader.append(element('h3', {}, 'Loss'));
    const logLabel = chartHeader.appendChild(element('label'));
    const logCheck = logLabel.appendChild(element('input', { type: 'checkbox' }));
    logLabel.append(' log scale');
    const chartCanvas = side.appendChild(element('canvas', { class: 'loss-chart', 'aria-label': 'Loss curve' }));
    side.append(element('h3', {}, 'Constraint health'));
    this.healthBox = side.appendChild(element('div', { class: 'health' }, 'no training yet'));
    side.append(element('h3', {}, 'Certificate'));
    this.certificateBox = side.appendChild(element('div', { class: 'certificate' }, 'none yet'));
    this.gramPanel = new GramPanel(side.appendChild(element('div', { class: 'gram-panel' })), settings.gramLayer, (layer) => {
      settings.gramLayer = layer;
      persist();
    });
    this.chart = new LossChart(chartCanvas, theme);
    logCheck.checked = settings.logScale;
    this.chart.log = settings.logScale;
    logCheck.addEventListener('change', () => {
      settings.logScale = logCheck.checked;
      this.chart.log = logCheck.checked;
      this.chart.requestDraw();
      persist();
    });
    document.body.dataset.lossPoints = '0';
    document.body.dataset.certificate = 'none';
  }

  setTheme(theme: ThemeColors): void {
    this.chart.setTheme(theme);
  }

  /** Another spec is shown: nothing of the previous one's training stays. */
  clear(): void {
    this.chart.reset(0);
    document.body.dataset.lossPoints = '0';
    this.showCertificate(undefined);
    this.gramPanel.clear();
    this.healthBox.textContent = 'no training yet';
    this.statusLine.textContent = 'idle';
  }

  trainingStarted(totalSteps: number, backend: string | undefined): void {
    this.chart.reset(totalSteps);
    document.body.dataset.lossPoints = '0';
    this.showCertificate(undefined);
    this.statusLine.textContent = `training${backend ? ` on ${backend}` : ''}…`;
  }

  progress(m: { step: number; totalSteps: number; loss: number; health: LayerHealth[] }): void {
    this.chart.push(m.step, m.loss, m.totalSteps);
    document.body.dataset.lossPoints = String(this.chart.count);
    document.body.dataset.step = String(m.step);
    this.pendingHealth = m;
    this.scheduleHealth();
  }

  lossHistory(steps: number[], losses: number[], totalSteps: number): void {
    this.chart.setHistory(steps, losses, totalSteps);
    document.body.dataset.lossPoints = String(this.chart.count);
  }

  status(state: string, message: string): void {
    this.statusLine.textContent = message ? `${state}: ${message}` : state;
    this.statusLine.dataset.state = state;
    document.body.dataset.status = state;
  }

  gram(message: ViewGram): void {
    this.gramPanel.show(message);
  }

  showCertificate(certificate: Certificate | undefined): void {
    document.body.dataset.certificate = certificate ? (certificate.proved ? 'proved' : 'not-proved') : 'none';
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
    this.certificateBox.replaceChildren(summary, table);
  }

  /** Health bars and the step redraw once per frame, however fast progress arrives. */
  private scheduleHealth(): void {
    if (this.healthFrame) return;
    this.healthFrame = requestAnimationFrame(() => {
      this.healthFrame = 0;
      const pending = this.pendingHealth;
      if (!pending) return;
      this.healthBox.replaceChildren(
        ...formatHealth(pending.health).map((row) => {
          const line = element('div', { class: 'health-row' });
          line.append(element('span', { class: 'health-label' }, row.label));
          const bar = line.appendChild(element('span', { class: 'bar' }));
          bar.appendChild(element('span', { class: 'fill', style: `width: ${(100 * row.fraction).toFixed(1)}%` }));
          line.append(element('span', { class: 'health-detail' }, row.detail));
          return line;
        }),
      );
      this.statusLine.textContent = `training: step ${pending.step} / ${pending.totalSteps}`;
    });
  }
}
