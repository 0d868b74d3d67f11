// Live loss curve on a 2-D canvas: redraws at most once per animation frame, follows resize and devicePixelRatio.
import { rgbToCss, type ThemeColors } from './colors';

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

/** How much of the running average each new batch loss keeps (TensorBoard's smoothing weight). */
export const SMOOTHING = 0.8;

/**
 * Exponential moving average of the batch losses, debiased at the start like TensorBoard's: the trend under the
 * noise of single batches. Non-finite losses are passed through and do not enter the average.
 */
export function smoothLosses(losses: ArrayLike<number>, weight = SMOOTHING): number[] {
  const smoothed: number[] = [];
  let average = 0;
  let seen = 0;
  for (let i = 0; i < losses.length; i++) {
    const v = losses[i];
    if (!Number.isFinite(v)) {
      smoothed.push(v);
      continue;
    }
    average = weight * average + (1 - weight) * v;
    seen++;
    smoothed.push(average / (1 - weight ** seen));
  }
  return smoothed;
}

export class LossChart {
  private steps: number[] = [];
  private losses: number[] = [];
  private totalSteps = 0;
  private frame = 0;
  private readonly context: CanvasRenderingContext2D | null;
  log = true;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private theme: ThemeColors,
  ) {
    this.context = canvas.getContext('2d');
    new ResizeObserver(() => this.requestDraw()).observe(canvas);
    this.watchPixelRatio();
  }

  get count(): number {
    return this.losses.length;
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    this.requestDraw();
  }

  reset(totalSteps: number): void {
    this.steps = [];
    this.losses = [];
    this.totalSteps = totalSteps;
    this.requestDraw();
  }

  setHistory(steps: number[], losses: number[], totalSteps: number): void {
    this.steps = [...steps];
    this.losses = [...losses];
    this.totalSteps = totalSteps;
    this.requestDraw();
  }

  /** O(1): the drawing happens on the next animation frame, however many points arrive before it. */
  push(step: number, loss: number, totalSteps: number): void {
    this.steps.push(step);
    this.losses.push(loss);
    this.totalSteps = totalSteps;
    this.requestDraw();
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
    const range = lossRange(this.losses, this.log);
    if (!range || width <= 0 || height <= 0) {
      ctx.textAlign = 'left';
      ctx.textBaseline = 'alphabetic';
      ctx.fillText('loss: waiting for training', left, top + 12);
      return;
    }
    const [lo, hi] = range;
    const xMax = Math.max(this.totalSteps, this.steps[this.steps.length - 1] ?? 1, 1);
    const x = (s: number) => left + (s / xMax) * width;
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
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const t of linearTicks(0, xMax, 4)) ctx.fillText(String(t), x(t), top + height + 4);
    // One point per pixel column at most: a long run does not cost more to draw than the canvas is wide.
    const stride = Math.max(1, Math.floor(this.losses.length / Math.max(1, width)));
    const last = this.losses.length - 1;
    const curve = (values: ArrayLike<number>, style: string, lineWidth: number) => {
      ctx.strokeStyle = style;
      ctx.lineWidth = lineWidth;
      ctx.beginPath();
      let started = false;
      for (let i = 0; i < values.length; i += stride) {
        const v = values[i];
        if (!Number.isFinite(v) || (this.log && v <= 0)) continue;
        if (!started) ctx.moveTo(x(this.steps[i]), y(v));
        else ctx.lineTo(x(this.steps[i]), y(v));
        started = true;
      }
      if (started && last % stride !== 0 && Number.isFinite(values[last])) ctx.lineTo(x(this.steps[last]), y(values[last]));
      ctx.stroke();
    };
    // The batch losses faint, their moving average on top: the noise stays visible, the trend readable.
    const smoothed = smoothLosses(this.losses);
    curve(this.losses, rgbToCss(this.theme.accent, 0.3), 1);
    curve(smoothed, rgbToCss(this.theme.accent), 1.5);
    ctx.textAlign = 'right';
    ctx.fillStyle = fg;
    ctx.fillText(
      `loss ${this.losses[last]?.toPrecision(4) ?? ''} (smoothed ${smoothed[last]?.toPrecision(4) ?? ''}) @ ${this.steps[last] ?? 0}`,
      left + width,
      top,
    );
  }
}
