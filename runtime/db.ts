/**
 * The one way to reach PostgreSQL: a postgres.js pool. `NUMERIC` comes back as strings,
 * so money is never a float.
 * @module
 */
import postgres from "postgres";

/** A postgres.js client. */
export type Sql = postgres.Sql;
/** A postgres.js transaction client. */
export type TransactionSql = postgres.TransactionSql;
/** A postgres.js connection reserved from the pool until released. */
export type ReservedSql = postgres.ReservedSql;

/** Opens a pool against `url`. */
export function connectDb(url: string, opts: { max?: number; name?: string } = {}): Sql {
  return postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    connect_timeout: 5,
    idle_timeout: 60,
    connection: { application_name: opts.name ?? "meridian" },
  });
}

/** True when the database answers within `timeoutMs`. */
export async function pingDb(sql: Sql, timeoutMs = 2000): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<false>((
      resolve,
    ) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    return await Promise.race([sql`select 1`.then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
