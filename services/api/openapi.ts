/**
 * `GET /api/openapi.json`, generated from the same zod schemas the routes validate with.
 * @module
 */
import { z } from "zod";
import { HoldingsView, PendingUpdatesView } from "@meridian/portfolio";
import * as S from "./schemas.ts";

type Op = {
  method: "get" | "post" | "patch" | "delete";
  path: string;
  summary: string;
  body?: z.ZodType;
  query?: z.ZodObject;
  ok: number;
  response?: z.ZodType;
  auth?: false;
  errors?: number[];
  /** Other successful answers than `ok`. */
  also?: { status: number; response: z.ZodType }[];
  stream?: true;
  redirect?: true;
  /** Request headers the operation reads. */
  headers?: { name: string; schema: z.ZodType; required: boolean }[];
};

/** What a connection flow may answer beyond its own: the provider's refusal or outage, limits. */
const FLOW_ERRORS = [429, 502, 503];

const OPS: Op[] = [
  {
    method: "post",
    path: "/api/auth/signup",
    summary:
      "Create an account (the first becomes owner); the same answer for a taken email, then sign in",
    body: S.SignupBody,
    ok: 202,
    response: S.SignupAccepted,
    auth: false,
    errors: [403, 429],
  },
  {
    method: "post",
    path: "/api/auth/login",
    summary: "Sign in; sets the session cookie",
    body: S.LoginBody,
    ok: 200,
    response: z.object({ user: S.UserView }),
    auth: false,
    errors: [401, 429],
  },
  { method: "post", path: "/api/auth/logout", summary: "Sign out", ok: 204, auth: false },
  {
    method: "get",
    path: "/api/me",
    summary: "The signed-in user and portfolio mode",
    ok: 200,
    response: S.MeView,
  },
  {
    method: "patch",
    path: "/api/me",
    summary: "Change the user's own settings: the base currency totals are converted into",
    body: S.MePatchBody,
    ok: 200,
    response: S.MeView,
    errors: [400],
  },
  {
    method: "get",
    path: "/api/holdings",
    summary:
      "Holdings from the database: per account, aggregated, cash, totals, per-provider freshness",
    ok: 200,
    response: HoldingsView,
  },
  {
    method: "post",
    path: "/api/holdings/refresh",
    summary: "Request a refresh of flagged or stale connections",
    body: S.RefreshBody,
    ok: 202,
    response: S.RefreshAccepted,
    also: [{ status: 200, response: S.RefreshUpToDate }],
    errors: [404, 429],
  },
  {
    method: "get",
    path: "/api/pending-updates",
    summary: "Connections with updates waiting",
    ok: 200,
    response: PendingUpdatesView,
  },
  {
    method: "get",
    path: "/api/connections",
    summary: "The user's connections",
    ok: 200,
    response: S.ConnectionList,
  },
  {
    method: "get",
    path: "/api/connections/{id}",
    summary: "One connection",
    ok: 200,
    response: S.ConnectionView,
    errors: [404],
  },
  {
    method: "delete",
    path: "/api/connections/{id}",
    summary: "Remove a connection and its data",
    ok: 204,
    errors: [404, ...FLOW_ERRORS],
  },
  {
    method: "post",
    path: "/api/connections/{id}/reconnect",
    summary: "Repair a broken connection",
    body: S.ReconnectBody,
    ok: 200,
    response: S.ReconnectView,
    errors: [404, 409, 422, ...FLOW_ERRORS],
  },
  {
    method: "post",
    path: "/api/connections/snaptrade/portal",
    summary: "SnapTrade connection portal URL",
    body: S.SnapTradePortalBody,
    ok: 200,
    response: S.PortalView,
    errors: FLOW_ERRORS,
  },
  {
    method: "get",
    path: "/api/connections/snaptrade/callback",
    summary: "Where the SnapTrade portal returns; redirects to the dashboard",
    query: S.SnapTradeCallbackQuery,
    ok: 303,
    redirect: true,
  },
  {
    method: "post",
    path: "/api/connections/plaid/link-token",
    summary: "Plaid Hosted Link token",
    body: S.PlaidLinkBody,
    ok: 200,
    response: S.PlaidLinkView,
    errors: FLOW_ERRORS,
  },
  {
    method: "post",
    path: "/api/connections/plaid/exchange",
    summary: "Complete a Plaid Link session",
    body: S.PlaidExchangeBody,
    ok: 201,
    response: S.ConnectedView,
    errors: [404, ...FLOW_ERRORS],
  },
  {
    method: "get",
    path: "/api/connections/plaid/callback",
    summary: "Where Plaid Hosted Link returns; redirects to the dashboard",
    query: S.PlaidCallbackQuery,
    ok: 303,
    redirect: true,
  },
  {
    method: "post",
    path: "/api/connections/alpaca",
    summary: "Connect Alpaca with API keys (validated by an account call)",
    body: S.AlpacaBody,
    ok: 201,
    response: S.ConnectedView,
    errors: [404, 409, 422, ...FLOW_ERRORS],
  },
  {
    method: "get",
    path: "/api/accounts",
    summary: "The user's accounts",
    ok: 200,
    response: S.AccountListView,
  },
  {
    method: "get",
    path: "/api/accounts/{id}",
    summary: "One account",
    ok: 200,
    response: S.AccountSummaryView,
    errors: [404],
  },
  {
    method: "get",
    path: "/api/transactions",
    summary: "Transactions, newest first, paged by cursor",
    query: S.TransactionsQuery,
    ok: 200,
    response: S.TransactionPage,
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/api/transactions/{id}",
    summary: "One transaction",
    ok: 200,
    response: S.TransactionView,
    errors: [404],
  },
  {
    method: "get",
    path: "/api/syncs",
    summary: "Sync runs",
    query: S.SyncsQuery,
    ok: 200,
    response: S.SyncList,
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/api/syncs/{id}",
    summary: "One sync run",
    ok: 200,
    response: S.SyncRunView,
    errors: [404],
  },
  {
    method: "get",
    path: "/api/portfolio/history",
    summary: "Value over time (recorded and reconstructed points), gaps and returns",
    query: S.HistoryQuery,
    ok: 200,
    response: S.HistoryView,
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/api/income",
    summary: "Dividends and interest by month, in the base currency",
    query: S.IncomeQuery,
    ok: 200,
    response: S.IncomeView,
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/api/allocation",
    summary: "How the value splits by asset class, account, currency or instrument",
    query: S.AllocationQuery,
    ok: 200,
    response: S.AllocationView,
    errors: [400, 404],
  },
  {
    method: "get",
    path: "/api/orders/accounts",
    summary: "The accounts that can take an order (best first), and why the others cannot",
    query: S.OrderAccountsQuery,
    ok: 200,
    response: S.OrderAccountsView,
  },
  {
    method: "get",
    path: "/api/orders/symbols",
    summary: "Symbols the user's trading accounts can trade (SnapTrade search, Alpaca assets)",
    query: S.SymbolSearchQuery,
    ok: 200,
    response: S.SymbolList,
    errors: [...FLOW_ERRORS],
  },
  {
    method: "post",
    path: "/api/orders/preview",
    summary:
      "Preview an order: routed to an account that can execute it, checked against the kill switch, caps and collar; what a confirmation shows",
    body: S.OrderPreviewBody,
    ok: 200,
    response: S.OrderPreviewView,
    errors: [403, 404, 422, ...FLOW_ERRORS],
  },
  {
    method: "post",
    path: "/api/orders",
    summary:
      "Place a previewed order once: the same Idempotency-Key answers the same order (200); a used preview 409, an expired one 410",
    body: S.OrderPlaceBody,
    headers: [{ name: "Idempotency-Key", schema: S.IdempotencyKey, required: true }],
    ok: 201,
    response: S.OrderOne,
    also: [{ status: 200, response: S.OrderOne }],
    errors: [403, 404, 409, 410, 422, 429],
  },
  {
    method: "get",
    path: "/api/orders",
    summary: "The user's orders, newest first",
    query: S.OrdersQuery,
    ok: 200,
    response: S.OrderList,
  },
  {
    method: "get",
    path: "/api/orders/{id}",
    summary: "One order",
    ok: 200,
    response: S.OrderOne,
  },
  {
    method: "delete",
    path: "/api/orders/{id}",
    summary: "Ask the broker to cancel an order; 409 when it is final",
    ok: 202,
    response: S.OrderOne,
    errors: [409, 503],
  },
  {
    method: "get",
    path: "/api/trading/halts",
    summary: "The trading halts (kill switch) that apply to the user",
    ok: 200,
    response: S.HaltList,
  },
  {
    method: "post",
    path: "/api/trading/halts",
    summary: "Halt trading: for the user, one account, or (the owner) everyone",
    body: S.HaltBody,
    ok: 201,
    response: z.object({ halt: S.HaltView }),
    errors: [403, 404, 409],
  },
  {
    method: "delete",
    path: "/api/trading/halts/{id}",
    summary: "Release a halt",
    ok: 204,
  },
  {
    method: "get",
    path: "/api/stream",
    summary:
      "Server-sent events: pending, sync, value, order, snapshot; resumes with Last-Event-ID",
    ok: 200,
    stream: true,
    // A Last-Event-ID (header or `?last_event_id=`) longer than any id this api issues.
    errors: [400],
  },
  { method: "get", path: "/api/openapi.json", summary: "This document", ok: 200, auth: false },
];

const schema = (s: z.ZodType, io: "input" | "output") =>
  z.toJSONSchema(s, { io, unrepresentable: "any", target: "openapi-3.0" }) as Record<
    string,
    unknown
  >;

let cached: unknown;

/** The OpenAPI 3.0 document of the api. */
export function openApiDocument(): unknown {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPS) {
    const responses: Record<string, unknown> = {};
    if (op.stream) {
      responses[String(op.ok)] = {
        description: "An event stream",
        content: { "text/event-stream": {} },
      };
    } else if (op.redirect) {
      responses[String(op.ok)] = { description: "Redirect to the dashboard" };
    } else {
      responses[String(op.ok)] = op.response
        ? {
          description: "OK",
          content: { "application/json": { schema: schema(op.response, "output") } },
        }
        : { description: "No content" };
    }
    // Besides its own: 400 for a bad path, query or body (413 and 415 for a body that is too
    // large or not JSON), 401 without a session, 404 for an id that is not the user's, and
    // 503 with Retry-After whenever PostgreSQL or NATS is unreachable.
    for (const more of op.also ?? []) {
      responses[String(more.status)] = {
        description: "OK",
        content: { "application/json": { schema: schema(more.response, "output") } },
      };
    }
    const errors = new Set([
      ...(op.errors ?? []),
      ...(op.auth === false ? [] : [401]),
      ...(op.body || op.query || op.path.includes("{id}") ? [400] : []),
      ...(op.body ? [413, 415] : []),
      ...(op.path.includes("{id}") ? [404] : []),
      503,
    ]);
    for (const code of errors) {
      responses[String(code)] = {
        description: code === 429 || code === 503
          ? "Not now: come back after Retry-After seconds"
          : "Error",
        content: { "application/json": { schema: schema(S.ErrorBody, "output") } },
      };
    }
    const parameters: unknown[] = [];
    if (op.path.includes("{id}")) {
      parameters.push({
        name: "id",
        in: "path",
        required: true,
        schema: { type: "string", format: "uuid" },
      });
    }
    for (const h of op.headers ?? []) {
      parameters.push({
        name: h.name,
        in: "header",
        required: h.required,
        schema: schema(h.schema, "input"),
      });
    }
    if (op.query) {
      for (const [name, s] of Object.entries(op.query.shape)) {
        parameters.push({
          name,
          in: "query",
          required: !(s as z.ZodType).safeParse(undefined).success,
          schema: schema(s as z.ZodType, "input"),
        });
      }
    }
    (paths[op.path] ??= {})[op.method] = {
      summary: op.summary,
      security: op.auth === false ? [] : [{ session: [] }],
      ...(parameters.length ? { parameters } : {}),
      ...(op.body
        ? {
          requestBody: {
            required: false,
            content: { "application/json": { schema: schema(op.body, "input") } },
          },
        }
        : {}),
      responses,
    };
  }
  cached = {
    openapi: "3.0.3",
    info: { title: "Meridian API", version: "1.0.0" },
    components: {
      securitySchemes: { session: { type: "apiKey", in: "cookie", name: "meridian_session" } },
    },
    paths,
  };
  return cached;
}
