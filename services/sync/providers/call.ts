/**
 * The one wrapper every provider call goes through: it waits on the provider's rate limiter
 * (a bounded wait when someone is waiting on the answer), times the call, records
 * `{operation, status, ms}` for the sync_runs row, retries a 429 after its Retry-After (with
 * jitter), and turns SDK errors into a {@link ProviderError} that carries no secret (SDK
 * errors embed request URLs with user secrets in them).
 * @module
 */
import type { Provider } from "@meridian/proto";
import { counter, histogram } from "@meridian/runtime";
import { RateLimitedError, type RateLimiter } from "./rate_limit.ts";

/** One recorded provider call. */
export interface CallRecord {
  operation: string;
  status: number | "error";
  ms: number;
}

/** Collects the calls of one sync run. */
export class CallRecorder {
  readonly calls: CallRecord[] = [];
  get count(): number {
    return this.calls.length;
  }
}

/** A provider failure, safe to log and to store: status, provider code, short detail. */
export class ProviderError extends Error {
  override name = "ProviderError";
  constructor(
    readonly provider: Provider,
    readonly operation: string,
    readonly status: number | null,
    readonly code: string | null,
    readonly detail: string,
    /** The user must reconnect: credentials expired, revoked or invalid. */
    readonly auth: boolean,
    readonly retryAfterMs: number | null = null,
  ) {
    super(
      `${provider} ${operation} failed${
        status ? ` (${status}${code ? ` ${code}` : ""})` : ""
      }: ${detail}`,
    );
  }
}

const calls = counter("meridian_sync_provider_calls_total", "Provider calls made by sync", [
  "provider",
  "operation",
  "status",
]);
const latency = histogram("meridian_sync_provider_call_duration_seconds", "Provider call latency", [
  "provider",
  "operation",
]);

/** What a failed call said, whichever SDK made it: the input of a provider's auth check. */
export interface ErrorFacts {
  status: number | null;
  code: string | null;
  detail: string;
  retryAfterMs: number | null;
}

function num(v: unknown): number | null {
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

function retryAfter(headers: unknown): number | null {
  if (!headers) return null;
  let v: unknown;
  if (typeof (headers as Headers).get === "function") v = (headers as Headers).get("retry-after");
  else v = (headers as Record<string, unknown>)["retry-after"];
  if (typeof v !== "string" && typeof v !== "number") return null;
  const s = num(v);
  if (s !== null) return Math.max(0, s * 1000);
  const at = Date.parse(String(v));
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : null;
}

function clip(s: unknown): string {
  const t = typeof s === "string" ? s : s === undefined || s === null ? "" : JSON.stringify(s);
  // Never echo anything URL-like: SDK URLs carry secrets in query strings.
  return t.replace(/https?:\/\/\S+/g, "[url]").slice(0, 300);
}

/** Pulls status, code and a short detail out of any of the three SDKs' errors. */
export function errorFacts(e: unknown): ErrorFacts {
  const err = e as Record<string, unknown>;
  // Alpaca ApiError: status, code, message, retryAfterMs.
  // SnapTrade SnaptradeError: status, responseBody.
  // Plaid (axios): response.status, response.data{error_code, error_message}, response.headers.
  const response = err?.response as Record<string, unknown> | undefined;
  const body = (err?.responseBody ?? (response?.data as unknown)) as
    | Record<string, unknown>
    | undefined;
  let status = num(err?.status) ?? num(response?.status);
  // SnapTrade's SDK gives up on repeated 429s with a plain Error.
  if (status === null && /due to 429/.test(String(err?.message ?? ""))) status = 429;
  const b = body && typeof body === "object" ? body : {};
  const code = b.error_code ?? b.code ?? b.default_code ?? err?.code;
  const detail = b.error_message ?? b.detail ?? b.default_detail ?? b.message ??
    (status ? "" : (err?.message ?? String(e)));
  let ra = num(err?.retryAfterMs);
  if (ra === null) ra = retryAfter(response?.headers);
  if (ra === null && typeof b.detail === "string") {
    const m = /available in (\d+) seconds/i.exec(b.detail);
    if (m) ra = Number(m[1]) * 1000;
  }
  return {
    status,
    code: code === undefined || code === null ? null : String(code),
    detail: clip(detail),
    retryAfterMs: ra,
  };
}

/** What one provider call needs: which provider, its limiter, where to record. */
export interface CallContext {
  provider: Provider;
  limiter: RateLimiter;
  /** The provider's answer to "must the person reconnect?" for a failure. */
  authFailure(f: ErrorFacts): boolean;
  recorder?: CallRecorder;
  /** Attempts on 429 before giving up (default 4). */
  maxAttempts?: number;
  /**
   * Someone is waiting on this call: never wait longer than this for the limiter or for a
   * provider's Retry-After; fail with {@link RateLimitedError} instead. Absent: wait.
   */
  maxWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Runs one provider call through the limiter, timing and recording it. */
export async function providerCall<T>(
  ctx: CallContext,
  operation: string,
  fn: () => Promise<T>,
): Promise<T> {
  const max = ctx.maxAttempts ?? 4;
  const sleep = ctx.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1;; attempt++) {
    await ctx.limiter.acquire({ maxWaitMs: ctx.maxWaitMs });
    const started = performance.now();
    try {
      const out = await fn();
      const ms = Math.round(performance.now() - started);
      ctx.recorder?.calls.push({ operation, status: 200, ms });
      calls.inc({ provider: ctx.provider, operation, status: "200" });
      latency.observe({ provider: ctx.provider, operation }, ms / 1000);
      return out;
    } catch (e) {
      const ms = Math.round(performance.now() - started);
      const f = errorFacts(e);
      ctx.recorder?.calls.push({ operation, status: f.status ?? "error", ms });
      calls.inc({ provider: ctx.provider, operation, status: String(f.status ?? "error") });
      latency.observe({ provider: ctx.provider, operation }, ms / 1000);
      if (f.status === 429 && attempt < max) {
        const base = f.retryAfterMs ?? 1000 * 2 ** (attempt - 1);
        const wait = base + Math.random() * Math.min(1000, base * 0.2 + 100);
        ctx.limiter.pause(wait);
        if (ctx.maxWaitMs !== undefined && wait > ctx.maxWaitMs) {
          throw new RateLimitedError("provider", wait);
        }
        await sleep(wait);
        continue;
      }
      throw new ProviderError(
        ctx.provider,
        operation,
        f.status,
        f.code,
        f.detail,
        ctx.authFailure(f),
        f.retryAfterMs,
      );
    }
  }
}
