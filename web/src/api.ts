/** The dashboard's HTTP client: same-origin JSON with the session cookie. */

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
    throw new ApiError(0, "Meridian cannot be reached. Check your connection.");
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
    let message = typeof body.error === "string" ? body.error : `Request failed (${res.status})`;
    const issues = body.issues as { path: (string | number)[]; message: string }[] | undefined;
    if (issues?.length) {
      message = issues.map((i) => (i.path.length ? `${i.path.join(".")}: ` : "") + i.message)
        .join("; ");
    }
    throw new ApiError(res.status, message, Number.isFinite(retry) && retry > 0 ? retry : null);
  }
  return body as T;
}

export type Provider = "snaptrade" | "plaid" | "alpaca";

export interface User {
  id: string;
  email: string;
  role: "owner" | "member";
  created_at: string;
}
export interface Me {
  user: User;
  portfolio_mode: "brokerage" | "aggregation" | "hybrid" | "none";
  connections: { total: number; trade: number; read: number; broken: number };
  features: { snaptrade_trading: boolean };
  settings: { refresh_cooldown_s: number; holdings_ttl_h: number };
}
export interface PositionShare {
  account_id: string;
  connection_id: string;
  provider: Provider;
  quantity: string;
  price: string | null;
  previous_close: string | null;
  value: string | null;
  day_change: string | null;
  cost_basis: string | null;
}
export interface AggregatedPosition {
  symbol: string;
  name: string | null;
  security_type: string;
  currency: string;
  quantity: string;
  price: string | null;
  value: string | null;
  cost_basis: string | null;
  unrealized_pl: string | null;
  /** Decimal strings computed by the server; null when unknown. */
  day_change: string | null;
  /** Rounded to 2 places by the server. */
  day_change_percent: string | null;
  day_change_unknown_accounts: number;
  providers: Provider[];
  accounts: PositionShare[];
}
export interface AccountPosition {
  id: string;
  symbol: string;
  name: string | null;
  security_type: string;
  quantity: string;
  price: string | null;
  previous_close: string | null;
  value: string | null;
  day_change: string | null;
  day_change_percent: string | null;
  cost_basis: string | null;
  unrealized_pl: string | null;
  currency: string;
}
export interface Account {
  id: string;
  connection_id: string;
  provider: Provider;
  institution: string;
  name: string;
  number_mask: string | null;
  type: string;
  currency: string;
  status: string;
  positions: AccountPosition[];
  balances: { currency: string; cash: string; buying_power: string | null }[];
}
export interface ProviderSummary {
  provider: Provider;
  last_synced: string | null;
  has_pending_updates: boolean;
  connections: {
    id: string;
    institution: string;
    status: string;
    last_synced: string | null;
    has_pending_updates: boolean;
  }[];
}
export interface Holdings {
  accounts: Account[];
  positions: AggregatedPosition[];
  cash: {
    currency: string;
    amount: string;
    accounts: { account_id: string; provider: Provider; amount: string }[];
  }[];
  totals: {
    currency: string;
    positions_value: string;
    cash: string;
    total: string;
    cost_basis: string;
    unrealized_pl: string;
    unpriced_positions: number;
    /** Sum over the positions with a known previous close; null when none has one. */
    day_change: string | null;
    day_change_percent: string | null;
    day_change_coverage: { known: number; of: number };
  }[];
  providers: ProviderSummary[];
}
export interface PendingUpdates {
  has_pending_updates: boolean;
  connections: { connection_id: string; provider: Provider; institution: string; since: string }[];
}
export interface Connection {
  id: string;
  provider: Provider;
  institution: string;
  access: "read" | "trade";
  status: "active" | "error" | "disabled";
  status_reason: string | null;
  warning: string | null;
  last_synced_at: string | null;
  created_at: string;
  has_pending_updates: boolean;
  accounts: number;
}
export interface RefreshAnswer {
  status: "accepted" | "up_to_date";
  request_ids?: string[];
  connections?: { connection_id: string; provider: Provider }[];
}
