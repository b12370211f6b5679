/**
 * The address of the client behind a request: the socket's peer, or, only when that peer is a
 * proxy listed in `TRUSTED_PROXIES`, the nearest untrusted hop of `X-Forwarded-For`. Built on
 * `proxy-addr` (the trust logic Express uses), so a forged header from anywhere else is ignored.
 * @module
 */
import proxyAddrModule from "proxy-addr";

/** The two functions of `proxy-addr` used here (it ships no types of its own). */
const proxyaddr = proxyAddrModule as unknown as {
  (req: unknown, trust: ProxyTrust): string;
  compile(entries: string[]): ProxyTrust;
};

/** Decides whether a hop may be believed about the hop before it. */
export type ProxyTrust = (address: string, hop: number) => boolean;

/**
 * Compiles `TRUSTED_PROXIES`: comma-separated addresses, CIDR ranges, or the names
 * `loopback`, `linklocal` and `uniquelocal`. Empty trusts nobody. Throws on an invalid entry.
 */
export function compileTrustedProxies(list: string | undefined): ProxyTrust {
  const entries = (list ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) return () => false;
  return proxyaddr.compile(entries);
}

/** Whether `list` is a valid `TRUSTED_PROXIES` value. */
export function validTrustedProxies(list: string): boolean {
  try {
    compileTrustedProxies(list);
    return true;
  } catch {
    return false;
  }
}

/**
 * The client's address for a request whose socket peer is `peer` (null when the server did
 * not say; then no header is believed either).
 */
export function clientAddress(
  peer: string | null | undefined,
  headers: Headers,
  trust: ProxyTrust,
): string | null {
  if (!peer) return null;
  const forwarded = headers.get("x-forwarded-for");
  if (!forwarded) return peer;
  // proxy-addr reads a Node request; these two fields are all it touches.
  const req = { socket: { remoteAddress: peer }, headers: { "x-forwarded-for": forwarded } };
  try {
    return proxyaddr(req, trust);
  } catch {
    return peer;
  }
}

/** The socket peer given as the `env` of a Hono app (`remoteAddr`, see http_server.ts). */
export function peerOf(env: unknown): string | null {
  const addr = (env as { remoteAddr?: { hostname?: unknown } } | undefined)?.remoteAddr;
  return typeof addr?.hostname === "string" ? addr.hostname : null;
}
