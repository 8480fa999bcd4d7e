import { readdirSync, readFileSync } from 'node:fs'
import { delimiter, join, resolve } from 'node:path'

/** Fake camera executables: prepended to PATH for this test process and therefore for every camera child. */
export const FAKE_BIN = resolve(__dirname, '../fixtures/bin')
export function useFakeCameras(): void {
  if (!process.env.PATH?.startsWith(FAKE_BIN)) process.env.PATH = `${FAKE_BIN}${delimiter}${process.env.PATH ?? ''}`
}

// The pattern the fakes draw (test/fixtures/capture/fakecam.js), restated independently here.
export const rgbAt = (x: number, y: number): number[] => [(x * 5 + y) & 255, (y * 3) & 255, (x ^ y) & 255]
export const yAt = (x: number, y: number, k: number): number => (x + 2 * y + 7 * k) & 255
export const uAt = (x: number, y: number, k: number): number => (3 * x + y + 40 + k) & 255
export const vAt = (x: number, y: number, k: number): number => (x + 5 * y + 90 + 2 * k) & 255

/** Tightly packed expected I420 frame k of the fake pattern. */
export function expectedI420(w: number, h: number, k: number): Uint8Array {
  const cw = Math.ceil(w / 2),
    ch = Math.ceil(h / 2)
  const out = new Uint8Array(w * h + 2 * cw * ch)
  let o = 0
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[o++] = yAt(x, y, k)
  for (let y = 0; y < ch; y++) for (let x = 0; x < cw; x++) out[o++] = uAt(x, y, k)
  for (let y = 0; y < ch; y++) for (let x = 0; x < cw; x++) out[o++] = vAt(x, y, k)
  return out
}

export function expectedRgb(w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3)
  for (let y = 0, o = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      for (const c of rgbAt(x, y)) out[o++] = c
    }
  return out
}

export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b))

/** True if the pid is gone or a zombie already reparented (dead for our purposes but not reaped by init). */
export function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(join('/proc', String(pid), 'stat'), 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
  } catch {
    return true
  }
}

/** Children of this process still in the process table (zombies included), from /proc. */
export function childPids(): { pid: number; state: string; comm: string }[] {
  const out: { pid: number; state: string; comm: string }[] = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(rest[1]) === process.pid)
        out.push({ pid: Number(d), state: rest[0], comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) })
    } catch {
      /* exited meanwhile */
    }
  }
  return out
}

export const memoryLog = (): {
  lines: string[]
  log: { debug(m: string): void; info(m: string): void; warn(m: string): void }
} => {
  const lines: string[] = []
  return {
    lines,
    log: {
      debug: (m) => lines.push(`debug ${m}`),
      info: (m) => lines.push(`info ${m}`),
      warn: (m) => lines.push(`warn ${m}`),
    },
  }
}
