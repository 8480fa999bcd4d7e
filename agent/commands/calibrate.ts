/**
 * `deepn calibrate [--config FILE] [--frames N] [--seconds T] [--out table.json] [--report sigma.json]`: captures
 * from the configured camera (the same capture settings `deepn run` uses), accumulates DCT statistics of the frames
 * as the encoder would see them, and writes a DeepN table for this camera plus its σ report. Local only: no MQTT.
 */
import { numberOption, parseOptions } from '../cli-args'
import { CalibrationCollector } from '../calibration/collector'
import { captureOptionsFromConfig, createSource, type FrameSource } from '../capture'
import { checkCapturePaths } from '../startup-checks'
import { loadLocalConfig } from '../config-file'
import { formatTableJson } from '../../shared/codec/table-format'
import { checkOutputFile, writeOutputFile } from '../output-file'

/** Consecutive failed captures before calibrate gives up: a broken camera must end the command, not hang it. */
const MAX_ATTEMPTS = 5

const HELP = `usage: deepn calibrate [--config FILE] [--frames N] [--seconds T] [--out FILE] [--report FILE] [--id ID] [--scale S]

  --config FILE   agent configuration (capture.* settings pick the camera; defaults as for deepn run)
  --frames N      frames to collect (default 100)
  --seconds T     stop after T seconds even if fewer frames arrived
  --out FILE      write the DeepN table JSON (default: stdout)
  --force         replace an existing --out file
  --report FILE   also write the σ report (per-coefficient σ and mean, luma and chroma) as JSON
  --id ID         table id (default calibrated-<deviceId>)
  --scale S       DeepN scale knob for the table (default 1)

A camera that fails ${MAX_ATTEMPTS} times in a row (backoff capture.retryMinMs..retryMaxMs) ends the calibration
with its error and exit status 1.`

export async function main(argv: string[]): Promise<number> {
  const { values: o } = parseOptions({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      frames: { type: 'string' },
      seconds: { type: 'string' },
      out: { type: 'string' },
      report: { type: 'string' },
      id: { type: 'string' },
      scale: { type: 'string' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (o.help) {
    console.log(HELP)
    return 0
  }
  const frames = numberOption('--frames', o.frames, { integer: true, above: 0 }) ?? 100
  const { config } = loadLocalConfig({ file: o.config })
  // before capturing: a table is not replaced silently, and an unwritable folder is found now, not after the frames
  if (o.out) checkOutputFile(o.out, { option: '--out', force: o.force })
  if (o.report) checkOutputFile(o.report, { option: '--report', refuseExisting: false })
  const c = config.capture
  const collector = new CalibrationCollector({
    frames,
    seconds: numberOption('--seconds', o.seconds, { above: 0 }),
    subsampling: config.encoder.subsampling,
    deviceId: config.deviceId,
    id: o.id,
    scale: numberOption('--scale', o.scale, { above: 0 }),
  })
  checkCapturePaths(c)
  const log = {
    debug() {},
    info() {},
    warn: (m: string) => process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}deepn calibrate: ${m}\n`),
  }
  const source: FrameSource = createSource({
    ...captureOptionsFromConfig(c, log),
    retry: { minMs: c.retryMinMs, maxMs: c.retryMaxMs, maxAttempts: MAX_ATTEMPTS },
  })
  try {
    while (!collector.done) {
      let frame
      try {
        frame = await source.capture()
      } catch (err) {
        if ((err as Error)?.name === 'SourceExhaustedError') {
          if (collector.frames > 0) break // a finite replay ran out: use what we have
          throw new Error(`${(err as Error).message}: no frames to calibrate on`)
        }
        throw new Error(
          `camera (${c.source}) failed ${MAX_ATTEMPTS} times in a row, giving up: ${(err as Error).message}`,
        )
      }
      collector.add(frame)
      if (process.stderr.isTTY) process.stderr.write(`\rcalibrating: ${collector.frames}/${frames} frames`)
    }
  } finally {
    await source.close()
  }
  const { table, report } = collector.result()
  const text = formatTableJson(table)
  if (o.out) writeOutputFile(o.out, text, { overwrite: Boolean(o.force) })
  else process.stdout.write(text)
  if (o.report) writeOutputFile(o.report, `${JSON.stringify(report, null, 2)}\n`)
  process.stderr.write(
    `${process.stderr.isTTY ? '\n' : ''}calibrated ${report.frames} frames (${report.width}x${report.height} ${report.format}, ${report.lumaBlocks} luma blocks) in ${report.seconds.toFixed(1)} s → table ${table.id}${o.out ? ` in ${o.out}` : ''}\n`,
  )
  return 0
}
