/**
 * SVG charts for bench/RESULTS.md, written by bench/http.ts: plain strings,
 * no dependency. Two kinds: horizontal grouped bars (each row's ratio to its
 * floor, the peers) and lines over a logarithmic x axis (growth).
 *
 * @module
 */

/** One bar of a group. */
export interface Bar {
  /** Which series (the legend, and the colour). */
  series: string;
  value: number | undefined;
}

/** A labelled group of bars. */
export interface BarGroup {
  label: string;
  bars: Bar[];
}

/** A vertical line across the bars, such as 1.0× or a target. */
export interface Marker {
  value: number;
  label: string;
}

const COLOURS = ["#2f6fb5", "#e08a1e", "#3a9a5b", "#b3433b", "#7a5cb8"];
/** Text attributes; one font-size each (XML allows an attribute once). */
function font(size = 12): string {
  return `font-family="system-ui, sans-serif" font-size="${size}"`;
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(
    />/g,
    "&gt;",
  );
}

function legend(series: string[], x: number, y: number): string {
  return series.map((name, i) =>
    `<rect x="${x}" y="${y + i * 16}" width="10" height="10" fill="${
      COLOURS[i % COLOURS.length]
    }"/><text x="${x + 16}" y="${y + i * 16 + 9}" ${font()}>${
      escape(name)
    }</text>`
  ).join("");
}

/**
 * Horizontal grouped bars.
 *
 * @param title The chart's title.
 * @param groups The rows, top to bottom.
 * @param options The unit after each value, and vertical markers.
 * @returns An SVG document.
 */
export function barChart(
  title: string,
  groups: BarGroup[],
  options: { unit?: string; markers?: Marker[]; digits?: number } = {},
): string {
  const series = [
    ...new Set(groups.flatMap((g) => g.bars.map((b) => b.series))),
  ];
  const labelWidth = 400;
  const plotWidth = 420;
  const barHeight = 12;
  const groupHeight = series.length * barHeight + 10;
  const top = 40 + series.length * 16;
  const height = top + groups.length * groupHeight + 30;
  const values = groups.flatMap((g) => g.bars.map((b) => b.value ?? 0));
  const max = Math.max(
    ...values,
    ...(options.markers ?? []).map((m) => m.value),
    1e-9,
  ) * 1.1;
  const x = (v: number) => labelWidth + (v / max) * plotWidth;
  const digits = options.digits ?? 2;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${
      labelWidth + plotWidth + 90
    }" height="${height}" viewBox="0 0 ${
      labelWidth + plotWidth + 90
    } ${height}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" ${font(14)} font-weight="bold">${
      escape(title)
    }</text>`,
    legend(series, labelWidth, 30),
  ];
  groups.forEach((group, gi) => {
    const y0 = top + gi * groupHeight;
    parts.push(
      `<text x="${labelWidth - 8}" y="${
        y0 + (series.length * barHeight) / 2 + 4
      }" text-anchor="end" ${font()}>${escape(group.label)}</text>`,
    );
    for (const bar of group.bars) {
      const si = series.indexOf(bar.series);
      const y = y0 + si * barHeight;
      if (bar.value === undefined || !Number.isFinite(bar.value)) continue;
      parts.push(
        `<rect x="${labelWidth}" y="${y}" width="${
          Math.max(0.5, x(bar.value) - labelWidth)
        }" height="${barHeight - 2}" fill="${COLOURS[si % COLOURS.length]}"/>`,
        `<text x="${x(bar.value) + 4}" y="${y + 9}" ${font(10)}>${
          bar.value.toFixed(digits)
        }${options.unit ?? ""}</text>`,
      );
    }
  });
  for (const [i, marker] of (options.markers ?? []).entries()) {
    const mx = x(marker.value);
    parts.push(
      `<line x1="${mx}" y1="${top - 6}" x2="${mx}" y2="${
        height - 24
      }" stroke="#555" stroke-dasharray="4 3"/>`,
      `<text x="${mx}" y="${height - 14 + (i % 2) * 11}" text-anchor="middle" ${
        font(10)
      }>${escape(marker.label)}</text>`,
    );
  }
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

/** The smallest 1, 2, 2.5 or 5 × 10^k at or above `v`: round axis ticks. */
function niceCeil(v: number): number {
  const base = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * base >= v) return step * base;
  }
  return 10 * base;
}

/** One line of a line chart. */
export interface Series {
  name: string;
  points: [number, number][];
}

/**
 * Lines over a logarithmic x axis (sessions stored, sessions of a user).
 *
 * @param title The chart's title.
 * @param axes The axis labels.
 * @param series The lines.
 * @returns An SVG document.
 */
export function lineChart(
  title: string,
  axes: { x: string; y: string },
  series: Series[],
): string {
  const width = 640;
  const height = 340;
  const left = 70;
  const right = 250;
  const top = 40;
  const bottom = 50;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  if (xs.length === 0) return "";
  const lx0 = Math.floor(Math.log10(Math.min(...xs)));
  const lx1 = Math.max(lx0 + 1, Math.ceil(Math.log10(Math.max(...xs))));
  const ymax = niceCeil(Math.max(...ys, 1e-9) * 1.05);
  const px = (v: number) =>
    left + ((Math.log10(v) - lx0) / (lx1 - lx0)) * (width - left - right);
  const py = (v: number) =>
    height - bottom - (v / ymax) * (height - top - bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" ${font(14)} font-weight="bold">${
      escape(title)
    }</text>`,
    `<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${
      height - bottom
    }" stroke="#333"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${
      height - bottom
    }" stroke="#333"/>`,
    `<text x="${(left + width - right) / 2}" y="${
      height - 12
    }" text-anchor="middle" ${font()}>${escape(axes.x)}</text>`,
    `<text x="14" y="${
      (top + height - bottom) / 2
    }" text-anchor="middle" transform="rotate(-90 14 ${
      (top + height - bottom) / 2
    })" ${font()}>${escape(axes.y)}</text>`,
  ];
  for (let e = lx0; e <= lx1; e++) {
    const v = 10 ** e;
    parts.push(
      `<line x1="${px(v)}" y1="${height - bottom}" x2="${px(v)}" y2="${
        height - bottom + 5
      }" stroke="#333"/>`,
      `<text x="${px(v)}" y="${height - bottom + 18}" text-anchor="middle" ${
        font(10)
      }>${v.toLocaleString("en")}</text>`,
    );
  }
  for (let i = 0; i <= 4; i++) {
    const v = (ymax / 4) * i;
    parts.push(
      `<text x="${left - 6}" y="${py(v) + 4}" text-anchor="end" ${font(10)}>${
        v >= 100 ? v.toFixed(0) : String(Number(v.toPrecision(3)))
      }</text>`,
      `<line x1="${left}" y1="${py(v)}" x2="${width - right}" y2="${
        py(v)
      }" stroke="#ddd"/>`,
    );
  }
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const sorted = [...s.points].sort((a, b) => a[0] - b[0]);
    parts.push(
      `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${
        sorted.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`)
          .join(" ")
      }"/>`,
      ...sorted.map(([x, y]) =>
        `<circle cx="${px(x).toFixed(1)}" cy="${
          py(y).toFixed(1)
        }" r="3" fill="${colour}"/>`
      ),
    );
  });
  parts.push(
    legend(series.map((s) => s.name), width - right + 14, top),
    "</svg>",
  );
  return parts.join("\n") + "\n";
}
