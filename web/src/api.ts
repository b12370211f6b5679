/** The dashboard's HTTP client: same-origin JSON with the session cookie. */
import { errorText } from "./errors.ts";

/** An API answer that was not 2xx. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
  }
}

/** Called when any request answers 401 (the session ended). */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

/** Sends a request; resolves with the JSON body (or null for 204). */
export async function api<T>(
  path: string,
  opts: { method?: string; body?: unknown; quiet401?: boolean } = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: opts.method ?? "GET",
      credentials: "same-origin",
      headers: opts.body !== undefined ? { "content-type": "application/json" } : {},
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    });
  } catch {
    throw new ApiError(0, errorText(0, null));
  }
  if (res.status === 204) return null as T;
  let body: Record<string, unknown> = {};
  try {
    body = await res.json();
  } catch {
    // not JSON: fall through with an empty body
  }
  if (!res.ok) {
    if (res.status === 401 && !opts.quiet401) onUnauthorized();
    const retry = Number(res.headers.get("retry-after"));
    throw new ApiError(
      res.status,
      errorText(res.status, body),
      Number.isFinite(retry) && retry > 0 ? retry : null,
    );
  }
  return body as T;
}

export type {
  Account,
  AccountPosition,
  AggregatedPosition,
  Connection,
  Holdings,
  Me,
  PendingUpdates,
  PositionShare,
  Provider,
  ProviderSummary,
  RefreshAnswer,
  User,
} from "@meridian/api/views";
