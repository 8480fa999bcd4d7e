/** A small dependency-free SVG line chart: accuracy against bits per pixel, one polyline per curve. */
export interface Series {
  name: string
  points: { x: number; y: number; label?: string }[]
}

export interface PlotOptions {
  title: string
  xLabel: string
  yLabel: string
  /** Horizontal reference lines, e.g. the target accuracy and its band. */
  hLines?: { y: number; label: string; dashed?: boolean }[]
  width?: number
  height?: number
}

// ten distinct colours, then the same ten dashed, so up to twenty curves stay apart
const COLOURS = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#9467bd',
  '#ff7f0e',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
]
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function niceTicks(lo: number, hi: number, n = 6): number[] {
  const span = hi - lo || 1
  const step0 = span / n
  const mag = 10 ** Math.floor(Math.log10(step0))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0
  const out: number[] = []
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toPrecision(12)))
  return out
}

export function svgPlot(series: Series[], o: PlotOptions): string {
  const W = o.width ?? 800
  const H = o.height ?? 460
  const m = { l: 64, r: 210, t: 36, b: 50 }
  const all = series.flatMap((s) => s.points)
  if (all.length === 0) throw new Error('svgPlot: no points')
  const ys = [...all.map((p) => p.y), ...(o.hLines ?? []).map((h) => h.y)]
  const x0 = 0
  const x1 = Math.max(...all.map((p) => p.x)) * 1.05
  const yPad = (Math.max(...ys) - Math.min(...ys)) * 0.05 || 0.01
  const y0 = Math.min(...ys) - yPad
  const y1 = Math.max(...ys) + yPad
  const X = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r)
  const Y = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b)
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title)}</text>`,
  ]
  for (const t of niceTicks(x0, x1)) {
    out.push(
      `<line x1="${X(t)}" y1="${m.t}" x2="${X(t)}" y2="${H - m.b}" stroke="#eee"/>`,
      `<text x="${X(t)}" y="${H - m.b + 16}" text-anchor="middle">${t}</text>`,
    )
  }
  for (const t of niceTicks(y0, y1, 10)) {
    out.push(
      `<line x1="${m.l}" y1="${Y(t)}" x2="${W - m.r}" y2="${Y(t)}" stroke="#eee"/>`,
      `<text x="${m.l - 6}" y="${Y(t) + 4}" text-anchor="end">${t}</text>`,
    )
  }
  out.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#333"/>`)
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`)
  out.push(
    `<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`,
  )
  for (const h of o.hLines ?? []) {
    out.push(
      `<line x1="${m.l}" y1="${Y(h.y)}" x2="${W - m.r}" y2="${Y(h.y)}" stroke="#888"${h.dashed ? ' stroke-dasharray="4 3"' : ''}/>`,
    )
    out.push(`<text x="${m.l + 4}" y="${Y(h.y) - 3}" fill="#666" font-size="10">${esc(h.label)}</text>`)
  }
  series.forEach((s, i) => {
    const c = COLOURS[i % COLOURS.length]
    const dash = i >= COLOURS.length ? ' stroke-dasharray="6 3"' : ''
    const pts = [...s.points].sort((a, b) => a.x - b.x)
    out.push(
      `<polyline fill="none" stroke="${c}" stroke-width="1.8"${dash} points="${pts.map((p) => `${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(' ')}"/>`,
    )
    for (const p of pts) {
      out.push(
        `<circle cx="${X(p.x).toFixed(1)}" cy="${Y(p.y).toFixed(1)}" r="2.8" fill="${c}">${p.label ? `<title>${esc(p.label)}</title>` : ''}</circle>`,
      )
    }
    const ly = m.t + 16 + i * 18
    out.push(
      `<line x1="${W - m.r + 8}" y1="${ly}" x2="${W - m.r + 28}" y2="${ly}" stroke="${c}" stroke-width="2"${dash}/>`,
      `<text x="${W - m.r + 32}" y="${ly + 4}">${esc(s.name)}</text>`,
    )
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
