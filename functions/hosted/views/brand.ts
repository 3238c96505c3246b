/**
 * The tenant's colour, made safe for text: WCAG 2.2 asks for a contrast ratio of at least 4.5:1
 * for normal text, so the button text is white or near-black, whichever contrasts more, and a
 * colour that reaches 4.5:1 with neither is darkened until white text does.
 */
export const DEFAULT_BRAND_COLOR = '#1d4ed8';

function channel(c: number): number {
  const s = c / 255;
  return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
}

function luminance(hex: string): number {
  const n = Number.parseInt(hex.slice(1), 16);
  return 0.2126 * channel((n >> 16) & 255) + 0.7152 * channel((n >> 8) & 255) + 0.0722 * channel(n & 255);
}

export function contrast(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
}

function darken(hex: string, f: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  const c = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => Math.round(v * f));
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

export function brandPalette(color: string | undefined): { brand: string; onBrand: string } {
  let brand = color && /^#[0-9a-fA-F]{6}$/.test(color) ? color.toLowerCase() : DEFAULT_BRAND_COLOR;
  const dark = '#111111';
  for (let i = 0; i < 20; i++) {
    const white = contrast(brand, '#ffffff');
    const black = contrast(brand, dark);
    if (white >= 4.5) return { brand, onBrand: '#ffffff' };
    if (black >= 4.5 && black > white) return { brand, onBrand: dark };
    brand = darken(brand, 0.85);
  }
  return { brand, onBrand: '#ffffff' };
}
