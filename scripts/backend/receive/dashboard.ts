/**
 * `deepn receive --http`: a small live dashboard over the receiver's state, served by node:http.
 *   GET /                              the page (dashboard-page.ts)
 *   GET /api/devices                   JSON: one entry per device (DashboardDevice)
 *   GET /api/devices/<id>/last.jpg     the device's last stored frame
 *   GET /api/events                    Server-Sent Events: `devices` with the same JSON, every second
 * With a token every request must carry it (Authorization: Bearer, or ?token=). Without one the server only
 * answers requests addressed to a loopback name, so a web page cannot reach it through DNS rebinding.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { deviceIdProblem } from '../../../shared/contract/ids'
import type { Gap } from './seq-ranges'
import type { DeclaredLoss } from './losses'
import type { LastFrame } from './live-state'
import { readStoredFrame } from './frame-store'
import type { Receiver } from './receiver'
import type { TelemetryMessage } from '../../../shared/contract/telemetry'
import { DASHBOARD_PAGE } from './dashboard-page'

export interface DashboardOptions {
  receiver: Receiver
  host: string
  port: number
  /** Required on every request when set. */
  token?: string
  /** How often the event stream sends the devices (default 1000 ms). */
  tickMs?: number
}

export interface Dashboard {
  /** http://host:port/ as bound (the real port when 0 was asked). */
  readonly url: string
  close(): Promise<void>
}

export interface DashboardDevice {
  deviceId: string
  /** From the retained `status`; `unknown` before one arrived. */
  state: 'online' | 'degraded' | 'offline' | 'unknown'
  stateSince?: string
  reason?: string
  /** Frames stored this run. */
  frames: number
  duplicates: number
  /** Frames stored per second over the last few seconds. */
  fps: number
  meanBytesPerFrame?: number
  lastFrame?: Omit<LastFrame, 'file' | 'offset'>
  tableId?: string
  tableSince?: string
  previousTableId?: string
  telemetry?: { receivedAt: string; backlog: TelemetryMessage['backlog']; framesPerSec?: number }
  gaps: Gap[]
  missing: number
  lost: DeclaredLoss[]
}

/** Seconds of history frames/s is measured over. */
const FPS_WINDOW = 5

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const tickMs = opts.tickMs ?? 1000
  const samples: Array<{ at: number; frames: Map<string, number> }> = []
  const streams = new Set<ServerResponse>()
  const tokenDigest = opts.token !== undefined ? digest(opts.token) : undefined

  const devices = (): DashboardDevice[] => {
    const now = Date.now()
    const oldest = samples[0]
    return opts.receiver.snapshot().devices.map((d) => {
      const live = opts.receiver.live(d.deviceId)
      const before = oldest?.frames.get(d.deviceId) ?? 0
      const secs = oldest ? (now - oldest.at) / 1000 : 0
      const { file: _file, offset: _offset, ...lastFrame } = live?.lastFrame ?? ({} as LastFrame)
      const t = live?.telemetry
      return {
        deviceId: d.deviceId,
        state: live?.status?.state ?? 'unknown',
        stateSince: live?.status?.since,
        reason: live?.status?.reason,
        frames: d.frames,
        duplicates: d.duplicates,
        fps: secs > 0.5 ? Math.max(0, d.frames - before) / secs : 0,
        meanBytesPerFrame: d.frames > 0 ? d.bytes / d.frames : undefined,
        lastFrame: live?.lastFrame ? lastFrame : undefined,
        tableId: live?.lastFrame?.tableId,
        tableSince: live?.tableSince,
        previousTableId: live?.previousTableId,
        telemetry: t && { receivedAt: t.receivedAt, backlog: t.backlog, framesPerSec: t.framesPerSec },
        gaps: d.gaps,
        missing: d.missing,
        lost: d.lost,
      }
    })
  }

  const tick = (): void => {
    samples.push({
      at: Date.now(),
      frames: new Map(opts.receiver.snapshot().devices.map((d) => [d.deviceId, d.frames])),
    })
    while (samples.length > FPS_WINDOW + 1) samples.shift()
    if (streams.size === 0) return
    const event = sseEvent(devices())
    for (const res of streams) res.write(event)
  }
  tick()
  const timer = setInterval(tick, tickMs)
  timer.unref()

  const authorized = (req: IncomingMessage, url: URL): boolean => {
    if (tokenDigest === undefined) return isLoopbackHost(hostName(req.headers.host ?? ''))
    const auth = req.headers.authorization
    const given = auth?.startsWith('Bearer ') ? auth.slice(7) : url.searchParams.get('token')
    return given !== null && timingSafeEqual(digest(given), tokenDigest)
  }

  const server = createServer((req, res) => {
    res.setHeader('X-Content-Type-Options', 'nosniff')
    res.setHeader('Cache-Control', 'no-store')
    const url = new URL(req.url ?? '/', 'http://dashboard')
    if (!authorized(req, url)) {
      const why =
        tokenDigest === undefined
          ? 'this dashboard only answers requests to a loopback host name (use 127.0.0.1 or localhost)'
          : 'a valid token is required: Authorization: Bearer <token> or ?token=<token>'
      return send(res, 401, 'text/plain; charset=utf-8', `${why}\n`)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD')
      return send(res, 405, 'text/plain; charset=utf-8', 'only GET and HEAD\n')
    }
    const p = url.pathname
    if (p === '/') {
      res.setHeader(
        'Content-Security-Policy',
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self'; connect-src 'self'",
      )
      return send(res, 200, 'text/html; charset=utf-8', DASHBOARD_PAGE)
    }
    if (p === '/favicon.ico') return send(res, 204, 'image/x-icon', '') // browsers ask; none, without an error
    if (p === '/api/devices') return send(res, 200, 'application/json', JSON.stringify({ devices: devices() }))
    if (p === '/api/events') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', Connection: 'keep-alive' })
      res.write(sseEvent(devices()))
      streams.add(res)
      req.once('close', () => streams.delete(res))
      return
    }
    const m = /^\/api\/devices\/([^/]*)\/last\.jpg$/.exec(p)
    if (m) {
      // The raw path segment: a valid id has no characters that need percent-encoding, so '%2e%2e' is refused too.
      const problem = deviceIdProblem(m[1])
      if (problem) return send(res, 400, 'text/plain; charset=utf-8', `${problem}\n`)
      const last = opts.receiver.live(m[1])?.lastFrame
      if (!last?.file) return send(res, 404, 'text/plain; charset=utf-8', `no frame stored for '${m[1]}' in this run\n`)
      readStoredFrame(last.file, last.offset, last.bytes).then(
        (jpeg) => send(res, 200, 'image/jpeg', jpeg),
        (err: Error) => send(res, 500, 'text/plain; charset=utf-8', `cannot read the last frame: ${err.message}\n`),
      )
      return
    }
    send(res, 404, 'text/plain; charset=utf-8', `no such page: ${p}\n`)
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const addr = server.address() as AddressInfo
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  return {
    url: `http://${shownHost}:${addr.port}/`,
    close: () => {
      clearInterval(timer)
      for (const res of streams) res.end()
      streams.clear()
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) })
  res.end(res.req.method === 'HEAD' ? undefined : body)
}

function sseEvent(devices: DashboardDevice[]): string {
  return `event: devices\ndata: ${JSON.stringify({ devices })}\n\n`
}

/** Hashing both sides gives timingSafeEqual equal lengths whatever was sent. */
function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest()
}

/** The host name of a Host header, without the port (`[::1]:8080` → `[::1]`). */
function hostName(host: string): string {
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, '')
}
