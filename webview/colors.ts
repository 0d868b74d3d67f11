// Colour maps and theme colours for the view (pure apart from readThemeColors).

export type Rgb = [number, number, number];

// Viridis control points: perceptually uniform and readable on dark and light themes.
const VIRIDIS: Rgb[] = [
  [0.267, 0.005, 0.329],
  [0.283, 0.141, 0.458],
  [0.254, 0.265, 0.53],
  [0.207, 0.372, 0.553],
  [0.164, 0.471, 0.558],
  [0.128, 0.567, 0.551],
  [0.135, 0.659, 0.518],
  [0.267, 0.749, 0.441],
  [0.478, 0.821, 0.318],
  [0.741, 0.873, 0.15],
  [0.993, 0.906, 0.144],
];

/** Viridis at t ∈ [0, 1] (clamped), written into out[offset..offset+2]. */
export function viridisInto(t: number, out: Float32Array | number[], offset: number): void {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  out[offset] = a[0] + (b[0] - a[0]) * f;
  out[offset + 1] = a[1] + (b[1] - a[1]) * f;
  out[offset + 2] = a[2] + (b[2] - a[2]) * f;
}

// Class colours (Okabe–Ito): distinguishable for colour-blind readers.
export const CLASS_COLORS: Rgb[] = [
  [0.0, 0.447, 0.698],
  [0.902, 0.624, 0.0],
  [0.0, 0.62, 0.451],
  [0.8, 0.475, 0.655],
  [0.337, 0.706, 0.914],
  [0.835, 0.369, 0.0],
  [0.941, 0.894, 0.259],
];

export function classColor(k: number): Rgb {
  return CLASS_COLORS[((k % CLASS_COLORS.length) + CLASS_COLORS.length) % CLASS_COLORS.length];
}

// Region colours: saturated hues kept apart from the class colours so a region never hides in the map.
export const REGION_COLORS: Rgb[] = [
  [1.0, 0.31, 0.85],
  [0.0, 0.9, 1.0],
  [0.7, 1.0, 0.0],
  [1.0, 0.35, 0.35],
  [0.75, 0.6, 1.0],
];

export function regionColor(r: number): Rgb {
  return REGION_COLORS[r % REGION_COLORS.length];
}

/** A stable, well-spread colour per cell index (golden-ratio hue steps), so neighbours differ. */
export function cellColor(index: number): Rgb {
  if (index < 0) return [0.5, 0.5, 0.5];
  const hue = (index * 0.618033988749895) % 1;
  return hslToRgb(hue, 0.55, 0.55 + 0.1 * ((index >> 1) % 2));
}

export function hslToRgb(h: number, s: number, l: number): Rgb {
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const channel = (t: number) => {
    const x = ((t % 1) + 1) % 1;
    if (x < 1 / 6) return p + (q - p) * 6 * x;
    if (x < 1 / 2) return q;
    if (x < 2 / 3) return p + (q - p) * (2 / 3 - x) * 6;
    return p;
  };
  return [channel(h + 1 / 3), channel(h), channel(h - 1 / 3)];
}

/** Index of the largest of values[offset..offset+count-1]. */
export function argmax(values: ArrayLike<number>, offset: number, count: number): number {
  let best = 0;
  for (let k = 1; k < count; k++) if (values[offset + k] > values[offset + best]) best = k;
  return best;
}

/** Parse a CSS colour as VS Code writes its variables (#rgb, #rrggbb, #rrggbbaa, rgb()/rgba()). */
export function parseCssColor(text: string): Rgb | undefined {
  const s = text.trim();
  let m = /^#([0-9a-f]{3})$/i.exec(s);
  if (m) return [0, 1, 2].map((i) => parseInt(m![1][i] + m![1][i], 16) / 255) as Rgb;
  m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(s);
  if (m) return [0, 2, 4].map((i) => parseInt(m![1].slice(i, i + 2), 16) / 255) as Rgb;
  m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i.exec(s);
  if (m) return [Number(m[1]) / 255, Number(m[2]) / 255, Number(m[3]) / 255];
  return undefined;
}

export interface ThemeColors {
  background: Rgb;
  foreground: Rgb;
  grid: Rgb;
  accent: Rgb;
  dark: boolean;
}

/** Theme colours from VS Code's CSS variables, with fallbacks for a page outside VS Code. */
export function readThemeColors(element: Element): ThemeColors {
  const style = getComputedStyle(element);
  const read = (name: string, fallback: Rgb) => parseCssColor(style.getPropertyValue(name)) ?? fallback;
  const background = read('--vscode-editor-background', [0.118, 0.118, 0.118]);
  const foreground = read('--vscode-editor-foreground', [0.83, 0.83, 0.83]);
  const luminance = 0.2126 * background[0] + 0.7152 * background[1] + 0.0722 * background[2];
  return {
    background,
    foreground,
    grid: read('--vscode-editorLineNumber-foreground', [0.5, 0.5, 0.5]),
    accent: read('--vscode-focusBorder', [0.0, 0.478, 0.8]),
    dark: luminance < 0.5,
  };
}

export function rgbToCss([r, g, b]: Rgb, alpha = 1): string {
  return `rgba(${Math.round(r * 255)}, ${Math.round(g * 255)}, ${Math.round(b * 255)}, ${alpha})`;
}
