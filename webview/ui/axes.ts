// Axis ticks and labels along a 2-D spec's window, drawn on a 2-D canvas over the scene after each frame.
import { linearTicks } from '../loss-chart';
import { rgbToCss, type ThemeColors } from '../colors';
import { formatNumber } from '../text';

export interface AxesSource {
  /** Client pixels of plane point (u, v), undefined when there is no 2-D window. */
  planeScreenPosition(u: number, v: number): { x: number; y: number } | undefined;
}

export class AxisOverlay {
  private readonly context: CanvasRenderingContext2D | null;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly source: AxesSource,
  ) {
    canvas.classList.add('axes');
    this.context = canvas.getContext('2d');
  }

  /** Ticks on the window's bottom (u) and left (v) edges, named `names`; nothing when `window` is undefined. */
  draw(window: [[number, number], [number, number]] | undefined, names: [string, string], theme: ThemeColors): void {
    const ctx = this.context;
    if (!ctx) return;
    const rect = this.canvas.getBoundingClientRect();
    const ratio = globalThis.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(rect.width * ratio) || this.canvas.height !== Math.round(rect.height * ratio)) {
      this.canvas.width = Math.round(rect.width * ratio);
      this.canvas.height = Math.round(rect.height * ratio);
    }
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, rect.width, rect.height);
    document.body.dataset.axisTicks = '0';
    if (!window) return;
    const [[u0, u1], [v0, v1]] = window;
    const at = (u: number, v: number) => {
      const p = this.source.planeScreenPosition(u, v);
      return p && { x: p.x - rect.left, y: p.y - rect.top };
    };
    ctx.font = '10px sans-serif';
    ctx.fillStyle = rgbToCss(theme.foreground);
    ctx.strokeStyle = rgbToCss(theme.foreground, 0.6);
    let drawn = 0;
    const tick = (p: { x: number; y: number } | undefined, dx: number, dy: number, label: string, align: CanvasTextAlign) => {
      if (!p || p.x < 0 || p.y < 0 || p.x > rect.width || p.y > rect.height) return;
      ctx.beginPath();
      ctx.moveTo(p.x, p.y);
      ctx.lineTo(p.x + dx, p.y + dy);
      ctx.stroke();
      ctx.textAlign = align;
      ctx.textBaseline = 'middle';
      ctx.fillText(label, p.x + dx * 1.6, p.y + dy * 1.6);
      drawn++;
    };
    for (const u of linearTicks(u0, u1, 5)) tick(at(u, v0), 0, 5, formatNumber(u), 'center');
    for (const v of linearTicks(v0, v1, 5)) tick(at(u0, v), -5, 0, formatNumber(v), 'right');
    // The axis names past the middle of each edge.
    tick(at((u0 + u1) / 2, v0), 0, 14, names[0], 'center');
    tick(at(u0, (v0 + v1) / 2), -22, 0, names[1], 'right');
    document.body.dataset.axisTicks = String(drawn);
  }
}
