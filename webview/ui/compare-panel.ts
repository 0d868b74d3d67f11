// Run comparison: a table of the picked runs' settings and results; their loss curves go over the chart in the same colours.
import type { ComparedRun } from '../../extension/protocol/messages';
import { formatLoss } from '../../extension/police/training/loss-names';
import type { LossOverlay } from '../loss-chart';
import { formatNumber } from '../text';

/** Curve colours of the compared runs after the first (which the chart draws in the theme's accent). */
const RUN_COLORS = ['#e8a33d', '#d16ba5', '#5bc0a8', '#c75450', '#9a8cdb', '#7fb36a'];

export class ComparePanel {
  constructor(
    private readonly box: HTMLElement,
    private readonly accent: () => string,
  ) {
    box.classList.add('compare-panel');
    box.hidden = true;
  }

  /** Shows `runs` (none: hides the table) and returns the curves to overlay: every run but the first. */
  show(runs: ComparedRun[]): LossOverlay[] {
    document.body.dataset.comparedRuns = String(runs.length);
    this.box.hidden = runs.length === 0;
    if (runs.length === 0) {
      this.box.replaceChildren();
      return [];
    }
    const color = (i: number) => (i === 0 ? this.accent() : RUN_COLORS[(i - 1) % RUN_COLORS.length]);
    const heading = document.createElement('h3');
    heading.textContent = `Comparison of ${runs.length} runs`;
    const table = document.createElement('table');
    const head = table.insertRow();
    for (const title of ['run', 'settings', 'certificate', 'min margin', 'full-data loss', 'time', 'backend']) {
      const th = document.createElement('th');
      th.textContent = title;
      head.append(th);
    }
    runs.forEach((run, i) => {
      const row = table.insertRow();
      row.dataset.run = run.id;
      const name = row.insertCell();
      const swatch = name.appendChild(document.createElement('span'));
      swatch.className = 'swatch';
      swatch.style.background = color(i);
      name.append(` ${run.id}`);
      name.title = run.label;
      const kept = run.keptStep !== undefined && run.keptStep !== run.stepsDone ? ` (kept step ${run.keptStep} of ${run.stepsDone})` : '';
      const cells = [
        run.settings,
        run.certificate,
        run.minMargin === undefined ? '–' : formatNumber(run.minMargin),
        run.fullDataLoss === undefined ? '–' : `${formatLoss(run.fullDataLoss)}${kept}`,
        run.elapsedMs === undefined ? '–' : `${(run.elapsedMs / 1000).toFixed(1)} s`,
        run.backend ?? '–',
      ];
      for (const text of cells) row.insertCell().textContent = text;
      row.cells[2].className = run.certificate === 'proved' ? 'status-proved' : 'status-not-proved';
    });
    this.box.replaceChildren(heading, table);
    return runs.slice(1).map((run, i) => ({ label: run.id, points: run.points, color: color(i + 1) }));
  }
}
