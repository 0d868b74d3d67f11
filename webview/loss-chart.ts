// Live loss curve on a 2-D canvas: redraws at most once per animation frame, follows resize and devicePixelRatio.
import { rgbToCss, type ThemeColors } from './colors';
import { BATCH_LOSS, formatLoss, SMOOTHING, smoothLosses } from '../extension/police/training/loss-names';
import type { LossPoints } from '../extension/protocol/messages';

/** Round-number ticks for a linear axis. */
export function linearTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Powers of ten covering [min, max] (both > 0). */
export function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) ticks.push(10 ** e);
  return ticks;
}

/** The y range to draw: finite losses only; in log scale only the positive ones. */
export function lossRange(losses: ArrayLike<number>, log: boolean): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < losses.length; i++) {
    const y = losses[i];
    if (!Number.isFinite(y) || (log && y <= 0)) continue;
    lo = Math.min(lo, y);
    hi = Math.max(hi, y);
  }
  if (lo > hi) return undefined;
  if (log) return [10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi) + (hi === lo ? 1 : 0))];
  const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.1 || 1;
  return [Math.max(0, lo - pad), hi + pad];
}

/** What the x axis counts: training steps, or seconds of wall time since the training started. */
export type LossAxis = 'step' | 'time';

/** Another run's curve drawn over this one (run comparison). */
export interface LossOverlay {
  label: string;
  points: LossPoints;
  color: string;
}

export class LossChart {
  private points: LossPoints = { steps: [], losses: [], elapsedMs: [] };
  private overlays: LossOverlay[] = [];
  private totalSteps = 0;
  private frame = 0;
  private readonly context: CanvasRenderingContext2D | null;
  log = true;
  /** The moving average's weight, 0 (none) to 0.99 (the slider beside the chart). */
  smoothing = SMOOTHING;
  axis: LossAxis = 'step';

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private theme: ThemeColors,
  ) {
    this.context = canvas.getContext('2d');
    new ResizeObserver(() => this.requestDraw()).observe(canvas);
    this.watchPixelRatio();
  }

  get count(): number {
    return this.points.losses.length;
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    this.requestDraw();
  }

  reset(totalSteps: number): void {
    this.points = { steps: [], losses: [], elapsedMs: [] };
    this.totalSteps = totalSteps;
    this.requestDraw();
  }

  setHistory(points: LossPoints, totalSteps: number): void {
    this.points = { steps: [...points.steps], losses: [...points.losses], elapsedMs: [...points.elapsedMs] };
    this.totalSteps = totalSteps;
    this.requestDraw();
  }

  setOverlays(overlays: LossOverlay[]): void {
    this.overlays = overlays;
    this.requestDraw();
  }

  /** The drawing happens on the next animation frame, however many points arrive before it. */
  pushMany(points: LossPoints, totalSteps: number): void {
    for (let i = 0; i < points.steps.length; i++) {
      this.points.steps.push(points.steps[i]);
      this.points.losses.push(points.losses[i]);
      this.points.elapsedMs.push(points.elapsedMs[i]);
    }
    this.totalSteps = totalSteps;
    this.requestDraw();
  }

  /** The smoothed batch loss at the last point, as the label shows it. */
  lastSmoothed(): number | undefined {
    return smoothLosses(this.points.losses, this.smoothing).at(-1);
  }

  requestDraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private watchPixelRatio(): void {
    // A media query on the current ratio fires once when it changes (monitor switch, zoom).
    const query = matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`);
    query.addEventListener(
      'change',
      () => {
        this.requestDraw();
        this.watchPixelRatio();
      },
      { once: true },
    );
  }

  /** The x coordinate of point i of a curve, in the axis's unit (steps or seconds). */
  private xOf(points: LossPoints, i: number): number {
    return this.axis === 'step' ? points.steps[i] : points.elapsedMs[i] / 1000;
  }

  private draw(): void {
    const ctx = this.context;
    if (!ctx) return;
    const ratio = window.devicePixelRatio || 1;
    const cssWidth = this.canvas.clientWidth;
    const cssHeight = this.canvas.clientHeight;
    if (cssWidth === 0 || cssHeight === 0) return;
    if (this.canvas.width !== Math.round(cssWidth * ratio) || this.canvas.height !== Math.round(cssHeight * ratio)) {
      this.canvas.width = Math.round(cssWidth * ratio);
      this.canvas.height = Math.round(cssHeight * ratio);
    }
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, cssWidth, cssHeight);
    const fg = rgbToCss(this.theme.foreground);
    const grid = rgbToCss(this.theme.grid, 0.35);
    ctx.font = '10px sans-serif';
    ctx.fillStyle = fg;
    const left = 44;
    const right = 8;
    const top = 8;
    const bottom = 18;
    const width = cssWidth - left - right;
    const height = cssHeight - top - bottom;
    const curves = [this.points, ...this.overlays.map((o) => o.points)];
    const range = lossRange(
      curves.flatMap((c) => c.losses),
      this.log,
    );
    if (!range || width <= 0 || height <= 0) {
      ctx.textAlign = 'left';
      ctx.textBaseline = 'alphabetic';
      ctx.fillText(`${BATCH_LOSS}: waiting for training`, left, top + 12);
      return;
    }
    const [lo, hi] = range;
    let xMax = this.axis === 'step' ? this.totalSteps : 0;
    for (const c of curves) for (let i = 0; i < c.steps.length; i++) xMax = Math.max(xMax, this.xOf(c, i) || 0);
    xMax = Math.max(xMax, this.axis === 'step' ? 1 : 1e-3);
    const x = (value: number) => left + (value / xMax) * width;
    const y = this.log
      ? (v: number) => top + height - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * height
      : (v: number) => top + height - ((v - lo) / (hi - lo)) * height;
    ctx.strokeStyle = grid;
    ctx.lineWidth = 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of this.log ? logTicks(lo, hi) : linearTicks(lo, hi)) {
      if (t < lo || t > hi) continue;
      ctx.beginPath();
      ctx.moveTo(left, y(t));
      ctx.lineTo(left + width, y(t));
      ctx.stroke();
      ctx.fillText(this.log ? t.toExponential(0) : String(t), left - 4, y(t));
    }
    ctx.textBaseline = 'top';
    // The last tick label ends at the right edge instead of being cut by it.
    const ticks = linearTicks(0, xMax, 4);
    ticks.forEach((t, i) => {
      const label = this.axis === 'time' && i === ticks.length - 1 ? `${t} s` : String(t);
      const half = ctx.measureText(label).width / 2;
      ctx.textAlign = x(t) + half > cssWidth - 1 ? 'right' : 'center';
      ctx.fillText(label, ctx.textAlign === 'right' ? cssWidth - 1 : x(t), top + height + 4);
    });
    const curve = (points: LossPoints, values: ArrayLike<number>, style: string, lineWidth: number) => {
      // One point per pixel column at most: a long run does not cost more to draw than the canvas is wide.
      const stride = Math.max(1, Math.floor(values.length / Math.max(1, width)));
      const last = values.length - 1;
      ctx.strokeStyle = style;
      ctx.lineWidth = lineWidth;
      ctx.beginPath();
      let started = false;
      const visit = (i: number) => {
        const v = values[i];
        const at = this.xOf(points, i);
        if (!Number.isFinite(v) || !Number.isFinite(at) || (this.log && v <= 0)) return;
        if (!started) ctx.moveTo(x(at), y(v));
        else ctx.lineTo(x(at), y(v));
        started = true;
      };
      for (let i = 0; i < values.length; i += stride) visit(i);
      if (last >= 0 && last % stride !== 0) visit(last);
      ctx.stroke();
    };
    // Other runs first, smoothed only; then this run: the batch losses faint, their moving average on top.
    for (const overlay of this.overlays) curve(overlay.points, smoothLosses(overlay.points.losses, this.smoothing), overlay.color, 1.5);
    const smoothed = smoothLosses(this.points.losses, this.smoothing);
    curve(this.points, this.points.losses, rgbToCss(this.theme.accent, 0.3), 1);
    curve(this.points, smoothed, rgbToCss(this.theme.accent), 1.5);
    const last = this.points.losses.length - 1;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'top';
    ctx.fillStyle = fg;
    const label =
      last >= 0
        ? `${BATCH_LOSS} ${formatLoss(this.points.losses[last])} · smoothed ${formatLoss(smoothed[last])} at step ${this.points.steps[last]}`
        : '';
    // Tests read the label the user reads.
    this.canvas.dataset.label = label;
    ctx.fillText(label, left + width, top);
  }
}
