/**
 * zod schemas of the api's requests and of the responses it owns. The same schemas validate
 * input and generate `/api/openapi.json`.
 * @module
 */
import { z } from "zod";
import { Decimal, Id, OrderState, ProviderName, Timestamp, TransactionType } from "@meridian/proto";
import { AccountView, ConnectionSummaryView } from "@meridian/portfolio";

/** Every 4xx body. */
export const ErrorBody = z.object({
  error: z.string(),
  issues: z.array(
    z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() }),
  )
    .optional(),
  retry_after_s: z.number().int().optional(),
  /** Why an order was refused, for programs (the sentence is `error`). */
  code: z.string().optional(),
  /** The accounts that cannot take an order, and why. */
  ineligible: z.array(z.object({ account_id: Id, reason: z.string() })).optional(),
});

/**
 * Text that may reach a query: PostgreSQL's text refuses NUL, and no field of ours has a use
 * for control characters, so none passes validation.
 */
export const PlainText = (max: number) =>
  z.string().min(1).max(max).regex(/^\P{Cc}*$/u, "must not contain control characters");

/** A calendar date PostgreSQL's `date` holds as written: years 0001 to 9999. */
export const CalendarDate = z.iso.date().refine(
  (d) => !d.startsWith("0000-"),
  "must be in the year 0001 or later",
);

/** A token a provider issued (Plaid link and public tokens): letters, digits, `-` and `_`. */
const ProviderToken = z.string().regex(/^[A-Za-z0-9_-]{1,512}$/, "must be a token Plaid issued");

const Email = z.string().trim().toLowerCase().min(3).max(254).pipe(z.email());

export const SignupBody = z.object({
  email: Email,
  password: z.string().min(10, "Use a password of at least 10 characters.").max(256),
}).strict();
export const LoginBody = z.object({
  email: Email,
  password: z.string().min(1).max(256),
}).strict();

/** What sign-up answers, for a new email and a taken one alike. */
export const SignupAccepted = z.object({
  status: z.literal("accepted"),
  next: z.literal("sign_in"),
});

export const UserView = z.object({
  id: Id,
  email: z.string(),
  role: z.enum(["owner", "member"]),
  created_at: Timestamp,
});

export const PortfolioModeView = z.enum(["brokerage", "aggregation", "hybrid", "none"]);

export const MeView = z.object({
  user: UserView,
  portfolio_mode: PortfolioModeView,
  connections: z.object({
    total: z.number().int(),
    trade: z.number().int(),
    read: z.number().int(),
    broken: z.number().int(),
  }),
  /** Whether SnapTrade connections may be made with trading access. */
  features: z.object({ snaptrade_trading: z.boolean() }),
  settings: z.object({
    refresh_cooldown_s: z.number().int(),
    holdings_ttl_h: z.number(),
    /** What totals are converted into. */
    base_currency: z.string().length(3),
    /**
     * The currencies `base_currency` may be set to: EUR and every currency of the latest FX
     * reference rates (what `PATCH /api/me` accepts), sorted.
     */
    base_currencies: z.array(z.string().length(3)),
  }),
});

/** `PATCH /api/me`: the user's own settings. */
export const MePatchBody = z.object({
  base_currency: z.string().regex(/^[A-Z]{3}$/, "A currency is three capital letters, like USD."),
}).strict();

export const RefreshBody = z.object({
  connection_ids: z.array(Id).min(1).max(100).optional(),
}).strict();

export const RefreshAccepted = z.object({
  status: z.literal("accepted"),
  request_id: Id,
  request_ids: z.array(Id),
  connections: z.array(z.object({ connection_id: Id, provider: ProviderName })),
  cooldown: z.array(z.object({ provider: ProviderName, retry_after_s: z.number().int() })),
});
export const RefreshUpToDate = z.object({ status: z.literal("up_to_date") });

/** A connection as listed: portfolio's summary fields plus what the connections page shows. */
export const ConnectionView = ConnectionSummaryView.pick({
  id: true,
  institution: true,
  status: true,
  status_reason: true,
  warning: true,
  has_pending_updates: true,
}).extend({
  provider: ProviderName,
  access: z.enum(["read", "trade"]),
  last_synced_at: Timestamp.nullable(),
  created_at: Timestamp,
  accounts: z.number().int(),
});
export const ConnectionList = z.object({ connections: z.array(ConnectionView) });

export const SnapTradePortalBody = z.object({
  access: z.enum(["read", "trade"]).default("read"),
  /** A SnapTrade broker slug to open the portal on, e.g. "ALPACA". */
  broker: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
}).strict();
export const PortalView = z.object({ url: z.url() });

export const SnapTradeCallbackQuery = z.object({
  status: PlainText(64).optional(),
  connection_id: PlainText(256).optional(),
  authorizationId: PlainText(256).optional(),
  access: z.enum(["read", "trade"]).default("read"),
  reconnect: Id.optional(),
  error: z.string().max(256).optional(),
});

export const PlaidLinkBody = z.object({}).strict();
export const PlaidLinkView = z.object({
  link_token: z.string(),
  hosted_link_url: z.url().nullable(),
  expiration: Timestamp.nullable(),
});
export const PlaidExchangeBody = z.object({
  public_token: ProviderToken.optional(),
  link_token: ProviderToken.optional(),
}).strict().refine((b) => b.public_token || b.link_token, "Send a public_token or a link_token.");
export const PlaidCallbackQuery = z.object({
  link_token: z.string().min(1).max(512).optional(),
  public_token: z.string().min(1).max(512).optional(),
  reconnect: Id.optional(),
  error: z.string().max(256).optional(),
});

/**
 * Alpaca API keys. They travel in HTTP headers, so only visible ASCII can be a key: anything
 * else is a paste mistake, answered here rather than by the SDK failing to send it.
 */
export const AlpacaBody = z.object({
  key_id: z.string().trim()
    // An empty field needs one sentence, not also the length rule's.
    .min(1, { error: "Enter your Alpaca API key ID.", abort: true })
    .regex(/^[A-Za-z0-9]*$/, "The API key ID may contain only letters and digits.")
    .min(8, "The API key ID is at least 8 characters long.")
    .max(64, "The API key ID must be 64 characters or fewer."),
  secret_key: z.string().trim()
    .min(1, { error: "Enter your Alpaca secret key.", abort: true })
    .regex(
      /^[\x21-\x7e]*$/,
      "The secret key may contain only letters, digits and printable symbols.",
    )
    .min(8, "The secret key is at least 8 characters long.")
    .max(128, "The secret key must be 128 characters or fewer."),
  paper: z.boolean().default(true),
}).strict();
/** Repairing a connection: new keys when its provider is repaired with keys (Alpaca). */
export const ReconnectBody = AlpacaBody.partial({ key_id: true, secret_key: true });
export const ReconnectView = z.object({
  provider: ProviderName,
  /** Where to send the person (SnapTrade portal, Plaid Hosted Link); null when done. */
  url: z.url().nullable(),
  link_token: z.string().nullable(),
  connection_id: Id,
});
export const ConnectedView = z.object({ connection_id: Id });

/** An account without its positions and balances (those are in `GET /api/holdings`). */
export const AccountSummaryView = AccountView.omit({ positions: true, balances: true });
export const AccountListView = z.object({ accounts: z.array(AccountSummaryView) });

const IsoDate = z.iso.date();
export const TransactionsQuery = z.object({
  account_id: Id.optional(),
  type: TransactionType.optional(),
  symbol: PlainText(64).optional(),
  from: CalendarDate.optional(),
  to: CalendarDate.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/).optional(),
}).strict();
export const TransactionView = z.object({
  id: Id,
  account_id: Id,
  connection_id: Id,
  provider: ProviderName,
  type: TransactionType,
  symbol: z.string().nullable(),
  description: z.string().nullable(),
  quantity: Decimal.nullable(),
  price: Decimal.nullable(),
  amount: Decimal,
  fee: Decimal.nullable(),
  currency: z.string(),
  trade_date: IsoDate,
  settlement_date: IsoDate.nullable(),
});
export const TransactionPage = z.object({
  transactions: z.array(TransactionView),
  next_cursor: z.string().nullable(),
});

export const SyncsQuery = z.object({
  connection_id: Id.optional(),
  request_id: Id.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
}).strict();
export const SyncRunView = z.object({
  id: Id,
  connection_id: Id,
  provider: ProviderName,
  request_id: Id.nullable(),
  reason: z.string(),
  status: z.enum(["running", "succeeded", "failed"]),
  started_at: Timestamp,
  finished_at: Timestamp.nullable(),
  provider_calls: z.number().int(),
  error: z.string().nullable(),
});
export const SyncList = z.object({ syncs: z.array(SyncRunView) });

export const HistoryQuery = z.object({
  range: z.string().trim().max(40).default("1M"),
  account_id: Id.optional(),
}).strict();
const Fraction = Decimal.nullable();
export const HistoryView = z.object({
  currency: z.string().length(3),
  range: z.string(),
  from: Timestamp,
  to: Timestamp,
  scope: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("portfolio") }),
    z.object({ kind: z.literal("account"), account_id: Id, name: z.string() }),
  ]),
  resolution: z.enum(["5m", "30m", "1h", "1d"]),
  points: z.array(z.object({ time: Timestamp, value: Decimal, reconstructed: z.boolean() })),
  gaps: z.array(z.object({ from: z.string(), to: z.string(), reason: z.string() })),
  returns: z.object({
    twr: Fraction,
    mwr: Fraction,
    mwr_annualized: Fraction,
    start_value: Decimal.nullable(),
    end_value: Decimal.nullable(),
    net_contributions: Decimal,
    income: Decimal,
    fees: Decimal,
    realized_pl: Decimal,
    unrealized_pl: Decimal.nullable(),
  }),
  formulas: z.object({
    twr: z.string(),
    mwr: z.string(),
    pl: z.string(),
    income: z.string(),
    net_contributions: z.string(),
    fees: z.string(),
  }),
});

export const IncomeQuery = z.object({
  from: CalendarDate.optional(),
  to: CalendarDate.optional(),
  account_id: Id.optional(),
}).strict();
export const IncomeView = z.object({
  currency: z.string().length(3),
  from: z.string(),
  to: z.string(),
  months: z.array(z.object({
    month: z.string(),
    dividends: Decimal,
    interest: Decimal,
    total: Decimal,
  })),
  total: Decimal,
  unconverted: z.array(z.string().length(3)),
});

export const AllocationQuery = z.object({
  by: z.enum(["asset_class", "account", "currency", "instrument"]).default("asset_class"),
  account_id: Id.optional(),
}).strict();
export const AllocationView = z.object({
  currency: z.string().length(3),
  by: z.string(),
  total: Decimal,
  as_of: Timestamp,
  slices: z.array(
    z.object({ key: z.string(), label: z.string(), value: Decimal, weight: Decimal }),
  ),
  unvalued: z.array(z.object({ key: z.string(), label: z.string(), reason: z.string() })),
});

/** A positive amount as a decimal string ("1", "0.5", "187.25"). */
const Amount = z.string().trim().regex(
  /^\d{1,12}(\.\d{1,9})?$/,
  "must be a positive number written with digits, like 10 or 187.25",
).refine((v) => /[1-9]/.test(v), "must be more than zero");

const Ticker = z.string().trim().toUpperCase().regex(
  /^[A-Z0-9][A-Z0-9./-]{0,19}$/,
  "must be a ticker symbol, like AAPL or BRK.B",
);

export const OrderPreviewBody = z.object({
  symbol: Ticker,
  side: z.enum(["buy", "sell"]),
  quantity: Amount.optional(),
  notional: Amount.optional(),
  type: z.enum(["market", "limit", "stop", "stop_limit"]),
  limit_price: Amount.optional(),
  stop_price: Amount.optional(),
  time_in_force: z.enum(["day", "gtc", "ioc", "fok"]).default("day"),
  account_id: Id.optional(),
}).strict().superRefine((b, ctx) => {
  const issue = (path: string, message: string) =>
    ctx.addIssue({ code: "custom", path: [path], message });
  if ((b.quantity === undefined) === (b.notional === undefined)) {
    issue("quantity", "Give either a quantity or a notional amount, not both.");
  }
  if (b.notional !== undefined && (b.type !== "market" || b.time_in_force !== "day")) {
    issue("notional", "A notional amount is only for a market order good for the day.");
  }
  const needsLimit = b.type === "limit" || b.type === "stop_limit";
  const needsStop = b.type === "stop" || b.type === "stop_limit";
  if (needsLimit !== (b.limit_price !== undefined)) {
    issue(
      "limit_price",
      needsLimit ? "A limit order needs a limit price." : "Only limit orders take a limit price.",
    );
  }
  if (needsStop !== (b.stop_price !== undefined)) {
    issue(
      "stop_price",
      needsStop ? "A stop order needs a stop price." : "Only stop orders take a stop price.",
    );
  }
});

export const OrderAccountsQuery = z.object({
  symbol: Ticker,
  side: z.enum(["buy", "sell"]),
  quantity: Amount.optional(),
}).strict();

export const SymbolSearchQuery = z.object({
  q: z.string().trim().min(1, "must not be empty").max(40).regex(
    /^[\p{L}\p{N} .&'/-]+$/u,
    "must be letters, digits or spaces",
  ),
}).strict();

export const OrderPlaceBody = z.object({ preview_id: Id }).strict();

/** An `Idempotency-Key` header: a client's token for one intent. */
export const IdempotencyKey = z.string().trim().regex(
  /^[A-Za-z0-9_.:-]{8,128}$/,
  "must be 8 to 128 letters, digits or _ . : -, unique per order",
);

export const OrdersQuery = z.object({
  state: OrderState.optional(),
  account_id: Id.optional(),
}).strict();

export const HaltBody = z.object({
  scope: z.enum(["global", "user", "account"]),
  account_id: Id.optional(),
  reason: PlainText(500),
}).strict().refine((b) => (b.scope === "account") === (b.account_id !== undefined), {
  path: ["account_id"],
  message: "An account halt names its account, and only an account halt does.",
});

export const OrderView = z.object({
  id: Id,
  state: OrderState,
  account_id: Id,
  provider: ProviderName,
  symbol: z.string(),
  side: z.enum(["buy", "sell"]),
  type: z.enum(["market", "limit", "stop", "stop_limit"]),
  time_in_force: z.enum(["day", "gtc", "ioc", "fok"]),
  quantity: Decimal.nullable(),
  notional: Decimal.nullable(),
  limit_price: Decimal.nullable(),
  stop_price: Decimal.nullable(),
  filled_quantity: Decimal,
  average_price: Decimal.nullable(),
  estimated_amount: Decimal.nullable(),
  currency: z.string().nullable(),
  reason: z.string().nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export const OrderOne = z.object({ order: OrderView });
export const OrderList = z.object({ orders: z.array(OrderView) });

export const OrderPreviewView = z.object({
  preview_id: Id,
  expires_at: Timestamp,
  account_id: Id,
  account_name: z.string(),
  provider: ProviderName,
  symbol: z.string(),
  side: z.enum(["buy", "sell"]),
  quantity: Decimal,
  notional: Decimal.nullable(),
  type: z.enum(["market", "limit", "stop", "stop_limit"]),
  limit_price: Decimal.nullable(),
  stop_price: Decimal.nullable(),
  time_in_force: z.enum(["day", "gtc", "ioc", "fok"]),
  price: Decimal,
  estimated_amount: Decimal,
  commission: Decimal,
  remaining_cash: Decimal.nullable(),
  currency: z.string(),
  risk: z.string(),
});

export const OrderAccountsView = z.object({
  eligible: z.array(z.object({
    account_id: Id,
    name: z.string(),
    provider: ProviderName,
    currency: z.string(),
    held: Decimal,
  })),
  ineligible: z.array(z.object({ account_id: Id, reason: z.string() })),
});

export const SymbolList = z.object({
  symbols: z.array(z.object({ symbol: z.string(), name: z.string() })),
});

export const HaltView = z.object({
  id: Id,
  scope: z.enum(["global", "user", "account"]),
  account_id: Id.nullable(),
  reason: z.string(),
  engaged_at: Timestamp,
});
export const HaltList = z.object({ halts: z.array(HaltView) });
