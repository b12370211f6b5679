/**
 * Sign-up, sign-in, sign-out and the signed-in user (`/api/auth/*`, `GET|PATCH /api/me`).
 * @module
 */
import { Hono } from "hono";
import { encode, subjects, UserSettingsChanged } from "@meridian/proto";
import { hashPassword, verifyPassword } from "@meridian/runtime";
import type { ApiEnv, RouteContext } from "../context.ts";
import { ApiError, jsonBody, retryLater } from "../http.ts";
import type { Claim } from "../login_throttle.ts";
import { portfolioMode } from "../mode.ts";
import * as S from "../schemas.ts";
import { readToken, sessionCookie, type SessionUser } from "../sessions.ts";
import {
  convertibleCurrencies,
  createUser,
  setBaseCurrency,
  userForSignIn,
  userOverview,
} from "../users.ts";

// A real hash of a random password, so a login for an unknown email costs the same.
const DUMMY_HASH = hashPassword(crypto.randomUUID());

/** A 429 for an attempt the throttle held back. */
function throttled(claim: Claim & { ok: false }, message: string): ApiError {
  return retryLater(429, message, claim.retryAfterS);
}

/** The auth routes and `GET|PATCH /api/me`. */
export function authRoutes(ctx: RouteContext): Hono<ApiEnv> {
  const {
    sql,
    log,
    config,
    now,
    throttle,
    sessions,
    clientAddress,
    secure,
    startSession,
    holdingsCache,
  } = ctx;
  const app = new Hono<ApiEnv>();

  // Sign-up answers the same for a new email and a taken one (202, no session, the same work
  // done): the browser then signs in, so whether an address has an account is never revealed.
  app.post("/api/auth/signup", async (c) => {
    const body = await jsonBody(c, S.SignupBody);
    const claim = await throttle.claimAddress(clientAddress(c), now());
    if (!claim.ok) throw throttled(claim, "Too many attempts. Try again later.");
    const hash = await hashPassword(body.password);
    const user = await createUser(sql, {
      email: body.email,
      passwordHash: hash,
      allowSignup: config.ALLOW_SIGNUP,
    });
    if (user === "closed") throw new ApiError(403, "Sign-up is closed on this installation.");
    if (user !== "taken") log.info("user signed up", { user_id: user.id, role: user.role });
    return c.json({ status: "accepted", next: "sign_in" }, 202);
  });

  app.post("/api/auth/login", async (c) => {
    const body = await jsonBody(c, S.LoginBody);
    const address = clientAddress(c);
    const at = now();
    // Both claims are taken before the password is checked, each in one locked statement, so
    // parallel attempts are counted one by one.
    const fromAddress = await throttle.claimAddress(address, at);
    if (!fromAddress.ok) {
      throw throttled(fromAddress, "Too many sign-in attempts. Try again later.");
    }
    const forAccount = await throttle.claimSignIn(body.email, address, at);
    if (!forAccount.ok) throw throttled(forAccount, "Too many sign-in attempts. Try again later.");
    const row = await userForSignIn(sql, body.email);
    const ok = await verifyPassword(body.password, row?.password_hash ?? await DUMMY_HASH) &&
      row !== undefined;
    if (!ok) throw new ApiError(401, "Wrong email or password.");
    await throttle.succeeded(body.email, address);
    await startSession(c, row.id);
    return c.json({
      user: {
        id: row.id,
        email: row.email,
        role: row.role,
        created_at: row.created_at.toISOString(),
      },
    });
  });

  app.post("/api/auth/logout", async (c) => {
    const token = readToken(c.req.header("cookie"), secure(c));
    if (token) {
      const user = await sessions.resolve(token);
      if (user) await sessions.destroy(user.tokenHash);
    }
    c.header("Set-Cookie", sessionCookie(null, secure(c)));
    return c.body(null, 204);
  });

  /** `GET /api/me`'s answer for the signed-in user. */
  const meView = async (user: SessionUser) => {
    const [{ createdAt, baseCurrency, connections: conns }, currencies] = await Promise.all([
      userOverview(sql, user.id),
      convertibleCurrencies(sql),
    ]);
    return {
      user: {
        id: user.id,
        email: user.email,
        role: user.role,
        created_at: createdAt.toISOString(),
      },
      portfolio_mode: portfolioMode(conns),
      connections: {
        total: conns.length,
        trade: conns.filter((x) => x.access === "trade" && x.status !== "disabled").length,
        read: conns.filter((x) => x.access !== "trade" && x.status !== "disabled").length,
        broken: conns.filter((x) => x.status === "error").length,
      },
      features: { snaptrade_trading: config.FF_SNAPTRADE_TRADE_EXECUTION ?? true },
      settings: {
        refresh_cooldown_s: config.REFRESH_COOLDOWN_S,
        holdings_ttl_h: config.HOLDINGS_TTL_H,
        base_currency: baseCurrency,
        // What the dashboard's currency selector offers: only what PATCH accepts.
        base_currencies: currencies,
      },
    };
  };

  app.get("/api/me", async (c) => c.json(await meView(c.get("user"))));

  // Only a currency Meridian has a reference rate for: any other could not be converted.
  app.patch("/api/me", async (c) => {
    const user = c.get("user");
    const body = await jsonBody(c, S.MePatchBody);
    const known = await convertibleCurrencies(sql);
    if (!known.includes(body.base_currency)) {
      throw new ApiError(
        400,
        `Meridian has no exchange rate for ${body.base_currency}; choose one of ${
          known.join(", ")
        }.`,
      );
    }
    await setBaseCurrency(sql, user.id, body.base_currency);
    holdingsCache.invalidate(user.id);
    // After the commit, so valuation re-reads the new currency. Best effort: if NATS is away,
    // valuation's reconciliation (by holdings version and base currency) catches it.
    try {
      ctx.deps.nc?.publish(
        subjects.userSettings(user.id),
        encode(UserSettingsChanged, {
          user_id: user.id,
          base_currency: body.base_currency,
          at: new Date().toISOString(),
        }),
      );
    } catch (e) {
      log.warn("user settings not announced; valuation's reconciliation picks them up", {
        error: e,
      });
    }
    return c.json(await meView(user));
  });

  return app;
}
