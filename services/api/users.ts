/**
 * The api's queries of users: sign-up, the row sign-in checks, and what `GET /api/me` shows.
 * @module
 */
import type { Sql } from "@meridian/runtime";
import { latestFxRates } from "@meridian/portfolio";

/** What {@link createUser} did: a new user, an email already taken, or sign-up closed. */
export type SignupOutcome = { id: string; role: string } | "taken" | "closed";

/**
 * Creates a user; the first becomes the owner. Sign-ups are serialised so "first user becomes
 * owner" has exactly one winner. After the first, only while `allowSignup`.
 */
export async function createUser(
  sql: Sql,
  user: { email: string; passwordHash: string; allowSignup: boolean },
): Promise<SignupOutcome> {
  return await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('meridian.signup'))`;
    const [{ n }] = await tx<{ n: number }[]>`select count(*)::int as n from users`;
    if (n > 0 && !user.allowSignup) return "closed" as const;
    const [row] = await tx<{ id: string; role: string }[]>`
      insert into users (email, password_hash, role)
      values (${user.email}, ${user.passwordHash}, ${n === 0 ? "owner" : "member"})
      on conflict (email) do nothing
      returning id, role`;
    return row ?? "taken";
  });
}

/** The user signing in with `email`, with the password hash to check. */
export async function userForSignIn(sql: Sql, email: string) {
  const [row] = await sql<
    { id: string; email: string; role: string; password_hash: string; created_at: Date }[]
  >`
    select id, email, role, password_hash, created_at from users where email = ${email}`;
  return row;
}

/** When the user signed up, and the access and status of each of their connections. */
export async function userOverview(sql: Sql, userId: string) {
  const [row] = await sql<{ created_at: Date; base_currency: string }[]>`
    select created_at, base_currency from users where id = ${userId}`;
  const connections = await sql<{ access: string; status: string }[]>`
    select access, status from connections where user_id = ${userId}`;
  return { createdAt: row.created_at, baseCurrency: row.base_currency, connections };
}

/**
 * The currencies a total can be converted into: EUR and every currency of the latest stored
 * reference rates (EUR alone before the first rates arrive).
 */
export async function convertibleCurrencies(sql: Sql): Promise<string[]> {
  const fx = await latestFxRates(sql);
  return ["EUR", ...fx?.rates.keys() ?? []].sort();
}

/** Sets the user's base currency. */
export async function setBaseCurrency(sql: Sql, userId: string, currency: string): Promise<void> {
  await sql`update users set base_currency = ${currency} where id = ${userId}`;
}
