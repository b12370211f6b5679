/**
 * Sessions: a random token in an HttpOnly cookie, only its SHA-256 stored. Sliding idle
 * expiry and an absolute lifetime; a new token at every login.
 * @module
 */
import type { Context } from "hono";
import type { Sql } from "@meridian/runtime";

/** Inactivity after which a session ends. */
export const IDLE_MS = 7 * 24 * 3600_000;
/** Lifetime after which a session ends however active it is. */
export const ABSOLUTE_MS = 30 * 24 * 3600_000;
/** last_seen_at is written at most this often per session (fewer writes per request). */
const TOUCH_EVERY_MS = 60_000;

/** The signed-in user, as every handler sees it. */
export interface SessionUser {
  id: string;
  email: string;
  role: "owner" | "member";
  tokenHash: string;
}

function toHex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** SHA-256 hex of a token, as sessions.token_hash holds it. */
export async function hashToken(token: string): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
}

/** A fresh 256-bit token, base64url. */
export function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replaceAll("=", "");
}

/**
 * True when the request reached us over HTTPS: directly, by PUBLIC_URL, or by the
 * `X-Forwarded-Proto` of a trusted proxy (`fromTrustedProxy`; anyone else's is ignored).
 */
export function isHttps(c: Context, publicUrl: string, fromTrustedProxy: boolean): boolean {
  if (publicUrl.startsWith("https:")) return true;
  if (
    fromTrustedProxy && c.req.header("x-forwarded-proto")?.split(",")[0].trim() === "https"
  ) return true;
  return new URL(c.req.url).protocol === "https:";
}

/** Cookie name: `__Host-` prefixed whenever the cookie can be Secure. */
export function cookieName(secure: boolean): string {
  return secure ? "__Host-meridian_session" : "meridian_session";
}

/** Builds the Set-Cookie value for a session token (or its removal when token is null). */
export function sessionCookie(token: string | null, secure: boolean): string {
  const parts = [
    `${cookieName(secure)}=${token ?? ""}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    token === null ? "Max-Age=0" : `Max-Age=${Math.floor(ABSOLUTE_MS / 1000)}`,
  ];
  if (secure) parts.push("Secure");
  return parts.join("; ");
}

/** Reads the session token from the Cookie header (either name). */
export function readToken(cookieHeader: string | undefined, secure: boolean): string | undefined {
  if (!cookieHeader) return undefined;
  const wanted = cookieName(secure);
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === wanted) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{20,100}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

interface Cached {
  user: SessionUser;
  expiresAt: number;
  lastSeen: number;
  cachedAt: number;
}

/** Session persistence plus a short in-process cache so hot reads skip a query. */
export class SessionStore {
  #cache = new Map<string, Cached>();
  constructor(
    private readonly sql: Sql,
    private readonly now: () => number = Date.now,
    private readonly cacheMs = 5_000,
  ) {}

  /** Creates a session for `userId`; returns the raw token for the cookie. */
  async create(userId: string): Promise<string> {
    const token = newToken();
    const now = this.now();
    await this.sql`
      insert into sessions (token_hash, user_id, created_at, last_seen_at, expires_at)
      values (${await hashToken(token)}, ${userId}, ${new Date(now)}, ${new Date(now)},
              ${new Date(now + ABSOLUTE_MS)})`;
    // Opportunistic cleanup of this user's dead sessions.
    await this.sql`
      delete from sessions where user_id = ${userId}
        and (expires_at <= ${new Date(now)} or last_seen_at <= ${new Date(now - IDLE_MS)})`;
    return token;
  }

  /** The user of a live session, or null; slides the idle expiry. */
  async resolve(token: string): Promise<SessionUser | null> {
    const tokenHash = await hashToken(token);
    const now = this.now();
    const hit = this.#cache.get(tokenHash);
    if (hit && now - hit.cachedAt < this.cacheMs && now < hit.expiresAt) {
      if (now - hit.lastSeen < IDLE_MS) return hit.user;
    }
    const rows = await this.sql<
      {
        user_id: string;
        email: string;
        role: "owner" | "member";
        last_seen_at: Date;
        expires_at: Date;
      }[]
    >`
      select s.user_id, u.email, u.role, s.last_seen_at, s.expires_at
      from sessions s join users u on u.id = s.user_id
      where s.token_hash = ${tokenHash}`;
    const row = rows[0];
    if (!row) {
      this.#cache.delete(tokenHash);
      return null;
    }
    const lastSeen = row.last_seen_at.getTime();
    if (now >= row.expires_at.getTime() || now - lastSeen >= IDLE_MS) {
      await this.sql`delete from sessions where token_hash = ${tokenHash}`;
      this.#cache.delete(tokenHash);
      return null;
    }
    let seen = lastSeen;
    if (now - lastSeen > TOUCH_EVERY_MS) {
      await this.sql`update sessions set last_seen_at = ${new Date(now)}
                     where token_hash = ${tokenHash}`;
      seen = now;
    }
    const user: SessionUser = { id: row.user_id, email: row.email, role: row.role, tokenHash };
    if (this.#cache.size > 50_000) this.#cache.clear();
    this.#cache.set(tokenHash, {
      user,
      expiresAt: row.expires_at.getTime(),
      lastSeen: seen,
      cachedAt: now,
    });
    return user;
  }

  /** Ends the session with this token hash. */
  async destroy(tokenHash: string): Promise<void> {
    this.#cache.delete(tokenHash);
    await this.sql`delete from sessions where token_hash = ${tokenHash}`;
  }
}
