/** The dashboard's HTTP client: same-origin JSON with the session cookie. */
import { errorText } from "./errors.ts";

/** An account the api named as unable to take an order, and why (a sentence). */
export interface IneligibleAccount {
  account_id: string;
  reason: string;
}

/**
 * An API answer that was not 2xx: `message` is the sentence to show; `code` tells programs
 * which refusal it was (never shown); `ineligible` lists accounts that could not take an order.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterS: number | null = null,
    readonly code: string | null = null,
    readonly ineligible: readonly IneligibleAccount[] = [],
  ) {
    super(message);
  }
}

/** The `ineligible` list of an error body, keeping only well-formed entries. */
export function ineligibleOf(body: unknown): IneligibleAccount[] {
  const list = (body as { ineligible?: unknown } | null)?.ineligible;
  if (!Array.isArray(list)) return [];
  return list.filter((i): i is IneligibleAccount =>
    typeof i?.account_id === "string" && typeof i?.reason === "string" && i.reason.trim() !== ""
  );
}

/** Called when any request answers 401 (the session ended). */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

/** Sends a request; resolves with the JSON body (or null for 204). */
export async function api<T>(
  path: string,
  opts: {
    method?: string;
    body?: unknown;
    quiet401?: boolean;
    headers?: Record<string, string>;
  } = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: opts.method ?? "GET",
      credentials: "same-origin",
      headers: {
        ...(opts.body !== undefined ? { "content-type": "application/json" } : {}),
        ...opts.headers,
      },
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
      typeof body.code === "string" ? body.code : null,
      ineligibleOf(body),
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
