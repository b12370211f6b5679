/**
 * What the provider imitations share: the call log, the clock, the public URL, webhook
 * delivery and logging; plus small helpers.
 * @module
 */
import type { CallLog } from "./calls.ts";
import type { SandboxLog, WebhookDispatcher } from "./webhooks.ts";

/** Shared state and services of one running sandbox. */
export interface SandboxCore {
  calls: CallLog;
  /** Milliseconds since the epoch; tests pass a fake clock. */
  now: () => number;
  /** The sandbox's own base URL, without a trailing slash (known once it listens). */
  baseUrl: () => string;
  /**
   * The base URL a browser reaches the sandbox at (portal and Hosted Link pages), without a
   * trailing slash; the same as `baseUrl` unless `publicUrl` was given.
   */
  publicUrl: () => string;
  webhooks: WebhookDispatcher;
  log: SandboxLog;
}

/** An admin request that names something that does not exist, or is otherwise wrong. */
export class AdminError extends Error {
  constructor(readonly status: 400 | 404 | 409, message: string) {
    super(message);
  }
}

/** Escapes text for HTML. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** A random token of URL-safe characters. */
export function randomToken(bytes = 24): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Alphanumeric id like Plaid's (`length` characters). */
export function alnumId(length: number): string {
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const b = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(b, (x) => chars[x % chars.length]).join("");
}

/** Constant-time string comparison. */
export function timingSafeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** Milliseconds since the epoch as an ISO 8601 UTC timestamp. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A decimal string as a JSON number (the providers' SDKs type these fields as numbers). */
export function num(s: string | null | undefined): number | null {
  return s === null || s === undefined ? null : Number(s);
}

/** A minimal HTML page. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}
fieldset{margin:1rem 0}label{display:block;margin:.4rem 0}button{margin:.5rem .5rem 0 0;padding:.5rem 1rem}</style>
</head><body><main>
${body}
</main></body></html>`;
}
