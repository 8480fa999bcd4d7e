/**
 * Shared folder (`--group`): which member appends a frame's index line. Several may want to: the writer once its
 * batch is in its journal, a member the frame is redelivered to, a member's start-up scan, the writer's journal
 * replay after a crash. Each must first take the frame's claim token, a name derived from the frame's in its folder
 * (`<day>/.tmp-claim-<seq>.jpg`), by unlinking it: unlink(2) succeeds for one caller only, and the others do not
 * append.
 *
 * The writer links its temp file to the frame path (which claims the frame file: link(2) fails if it exists), then
 * renames the temp file to the token name: the token is a hard link of the frame until someone takes it. Every link
 * count change sets the frame's ctime, so a frame whose token is gone, unchanged for the grace period and still
 * without a line lost its claimer between unlink and append (killed): an orphan. Those who meet it race to create
 * `<day>/.tmp-orphan-<ctime ns>-<seq>.jpg` (link(2), one succeeds): everyone who saw the same orphan names the same
 * file, and creating it changes the ctime, so who looks later waits for the winner's line instead. Token and marker
 * names are temp names (`isTempFile`): the start-up scan sweeps them once stale.
 */
import { promises as fsp, unlinkSync } from 'node:fs'
import * as path from 'node:path'
import { TEMP_PREFIX } from '../../../agent/atomic-file'

const CLAIM_PREFIX = `${TEMP_PREFIX}claim-`
const ORPHAN_PREFIX = `${TEMP_PREFIX}orphan-`
/** How often `takeLine` waits for a claimer that took the token to append its line before giving up. */
const MAX_WAITS = 3

/** The claim token of a frame file: same folder, a temp name. */
export function claimTokenPath(frameFile: string): string {
  return path.join(path.dirname(frameFile), `${CLAIM_PREFIX}${path.basename(frameFile)}`)
}

/** The frame file name a token name stands for (`.tmp-claim-42.jpg` → `42.jpg`), undefined for other names. */
export function claimedFrameName(name: string): string | undefined {
  return name.startsWith(CLAIM_PREFIX) ? name.slice(CLAIM_PREFIX.length) : undefined
}

/**
 * The writer, right after linking `tmp` to `frameFile`: `tmp` becomes the frame's token (replacing a stale token of
 * an earlier file of that name). Where the link fell back to a rename (no hard links), `tmp` is gone and the token
 * is an empty file.
 */
export async function holdClaim(tmp: string, frameFile: string): Promise<void> {
  const token = claimTokenPath(frameFile)
  try {
    await fsp.rename(tmp, token)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    await fsp.writeFile(token, '')
  }
}

/** Unlinks the frame's token: true for the one caller that removed it, false when it was gone. */
export async function takeClaim(frameFile: string): Promise<boolean> {
  try {
    await fsp.unlink(claimTokenPath(frameFile))
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}

/**
 * `takeClaim` for the writer's group commit, synchronous: one unlink of a few µs per frame, where a trip through
 * libuv's threadpool would queue behind the frames being written and hold the batch (and the next) back.
 */
export function takeClaimSync(frameFile: string): boolean {
  try {
    unlinkSync(claimTokenPath(frameFile))
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}

/**
 * For those who find a stored frame without its line (a redelivery, the start-up scan, journal replay): true when
 * this caller must append the line. Takes the token if it is there. If not, someone took it, when the frame's ctime
 * says: waits until that is `graceMs` old, then the line is there, or the frame is an orphan, and creating its
 * marker decides who appends. `lineSeen` reads the index anew.
 */
export async function takeLine(frameFile: string, graceMs: number, lineSeen: () => Promise<boolean>): Promise<boolean> {
  for (let round = 0; round < MAX_WAITS; round++) {
    if (await takeClaim(frameFile)) return true
    const st = await fsp.stat(frameFile, { bigint: true }).catch(() => undefined)
    if (!st) return false
    const wait = Number(st.ctimeNs / 1_000_000n) + graceMs - Date.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    if (await lineSeen()) return false
    if (wait > 0) continue // it may have changed hands meanwhile: look again
    const marker = path.join(path.dirname(frameFile), `${ORPHAN_PREFIX}${st.ctimeNs}-${path.basename(frameFile)}`)
    try {
      await fsp.link(frameFile, marker) // stays until a start-up scan finds the line: a late finder must fail here
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false // another finder of this orphan won
      throw err
    }
  }
  return false
}
