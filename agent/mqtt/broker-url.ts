/**
 * Broker URLs and connection failures in the user's terms: "unsupported URL scheme 'nope:'", "cannot resolve
 * host 'x'", rather than mqtt.js's or the resolver's raw texts (`getaddrinfo ENOTFOUND x`).
 */

/** Schemes mqtt.js connects with in Node. */
export const BROKER_SCHEMES = ['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ssl:', 'ws:', 'wss:']

/** The reason `url` cannot name a broker, or undefined when it can. */
export function brokerUrlProblem(url: string): string | undefined {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return `'${url}' is not a URL (expected e.g. mqtt://host:1883)`
  }
  if (!BROKER_SCHEMES.includes(u.protocol))
    return `unsupported URL scheme '${u.protocol}' in '${url}' (use mqtt://, mqtts://, ws:// or wss://)`
  if (!u.hostname) return `'${url}' names no host (expected e.g. mqtt://host:1883)`
  return undefined
}

/** One line for a failed connection attempt to `url`. */
export function describeConnectError(url: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException & { hostname?: string; address?: string; port?: number }
  let host = e?.hostname
  try {
    host ??= new URL(url).host
  } catch {
    /* keep what the error said */
  }
  const where = redact(url)
  switch (e?.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve the broker host '${e.hostname ?? host}' (${where})`
    case 'ECONNREFUSED':
      return `broker ${where} refused the connection (is a broker listening on ${host}?)`
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `broker ${where} is unreachable (${e.code === 'ETIMEDOUT' ? 'connection timed out' : 'no route to host'})`
    case 'ECONNRESET':
      return `broker ${where} closed the connection (TLS or protocol mismatch?)`
    default:
      return `cannot connect to ${where}: ${err instanceof Error ? err.message : String(err)}`
  }
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@')
}
