/**
 * The sync's PostgreSQL side: claiming a run, replacing one connection's rows in one
 * transaction, recording the outcome. Every statement names the connection and its user.
 * @module
 */
import type { ReservedSql, Sql, TransactionSql } from "@meridian/runtime";
import type { HeldPosition, HoldingsChanged, InstrumentKind, Provider } from "@meridian/proto";
import { type InstrumentSpec, PROVIDER_ID_COLUMN, resolveInstrument } from "@meridian/portfolio";
import type { Snapshot } from "./normalise/model.ts";
import type { CallRecord } from "./providers/call.ts";
import type { SecretRow } from "./secrets.ts";

/** A connection row as the sync reads it. */
export interface ConnectionRow extends SecretRow {
  access: "read" | "trade";
  status: "active" | "error" | "disabled";
  institution: string;
}

/** The advisory-lock key that serialises claiming and writing one connection's sync. */
function lockKey(sql: Sql | TransactionSql, connectionId: string) {
  return sql`hashtextextended(${"meridian.sync:" + connectionId}, 0)`;
}

/**
 * The advisory-lock key of a running sync's lease. Its holder keeps it on a reserved
 * connection for the whole run, so PostgreSQL frees it the moment the worker dies.
 */
function leaseKey(sql: Sql | TransactionSql | ReservedSql, connectionId: string) {
  return sql`hashtextextended(${"meridian.sync.lease:" + connectionId}, 0)`;
}

/** Loads one connection of one user (at `provider`, when given), or null. */
export async function loadConnection(
  sql: Sql,
  userId: string,
  connectionId: string,
  provider?: Provider,
): Promise<ConnectionRow | null> {
  const at = provider ? sql`and provider = ${provider}` : sql``;
  const [row] = await sql<ConnectionRow[]>`
    select id, user_id, provider, external_id, access, status, institution,
           secret_key_id, secret_ciphertext
    from connections where id = ${connectionId} and user_id = ${userId} ${at}`;
  return row ?? null;
}

/** What the sync reads of a connection at the start of a run, before fetching. */
export interface SyncState {
  /** When its transactions were last fetched; null = never. */
  transactionsSyncedAt: Date | null;
  /** Its pending row came from a transactions event (false when there is no row). */
  pendingTransactions: boolean;
  /** External ids of the accounts it has now. */
  accountExternalIds: Set<string>;
}

/**
 * Reads the connection's sync state. Read at the start of the run: the write transaction
 * deletes the pending row.
 */
export async function loadSyncState(sql: Sql, conn: ConnectionRow): Promise<SyncState> {
  const [row] = await sql<
    { transactions_synced_at: Date | null; pending_transactions: boolean | null }[]
  >`
    select c.transactions_synced_at, p.transactions as pending_transactions
      from connections c left join pending_updates p on p.connection_id = c.id
     where c.id = ${conn.id} and c.user_id = ${conn.user_id}`;
  const accounts = await sql<{ external_id: string }[]>`
    select external_id from accounts where connection_id = ${conn.id} and user_id = ${conn.user_id}`;
  return {
    transactionsSyncedAt: row?.transactions_synced_at ?? null,
    pendingTransactions: row?.pending_transactions ?? false,
    accountExternalIds: new Set(accounts.map((a) => a.external_id)),
  };
}

/** True when a run that started at or after `since` already succeeded for the connection. */
export async function coveredSince(sql: Sql, connectionId: string, since: string) {
  const [row] = await sql<{ id: string }[]>`
    select id from sync_runs where connection_id = ${connectionId} and status = 'succeeded'
      and started_at >= ${since} order by started_at desc limit 1`;
  return row?.id ?? null;
}

/** The result of trying to claim a connection's sync across instances. */
export type Claim =
  | { kind: "claimed"; runId: string; startedAt: Date; release(): Promise<void> }
  | { kind: "busy"; runId: string | null };

/**
 * Claims the connection's sync. A live run holds the connection's lease, so whoever gets the
 * lease knows any run still marked running was abandoned by a worker that died, and records
 * it as failed. Without the lease the claim is busy: `runId` is the live run, or null in the
 * moment between another worker taking the lease and recording its run. The claimed run
 * holds the lease until `release()`.
 */
export async function claimRun(
  sql: Sql,
  conn: ConnectionRow,
  requestId: string | null,
  reason: string,
): Promise<Claim> {
  const lease = await sql.reserve();
  let leased = false;
  let claim: Claim | undefined;
  try {
    const [{ ok }] = await lease<{ ok: boolean }[]>`
      select pg_try_advisory_lock(${leaseKey(lease, conn.id)}) as ok`;
    leased = ok;
    claim = await sql.begin(async (tx): Promise<Claim> => {
      await tx`select pg_advisory_xact_lock(${lockKey(tx, conn.id)})`;
      if (!leased) {
        const [running] = await tx<{ id: string }[]>`
          select id from sync_runs where connection_id = ${conn.id} and status = 'running'
          order by started_at desc limit 1`;
        return { kind: "busy", runId: running?.id ?? null };
      }
      await tx`
        update sync_runs set status = 'failed', finished_at = now(), error = ${ABANDONED}
        where connection_id = ${conn.id} and status = 'running'`;
      const [run] = await tx<{ id: string; started_at: Date }[]>`
        insert into sync_runs (user_id, connection_id, request_id, reason)
        values (${conn.user_id}, ${conn.id}, ${requestId}, ${reason})
        returning id, started_at`;
      let released = false;
      return {
        kind: "claimed",
        runId: run.id,
        startedAt: run.started_at,
        release: async () => {
          if (released) return;
          released = true;
          await unlockLease(lease, conn.id);
        },
      };
    });
    return claim;
  } finally {
    if (claim?.kind !== "claimed") {
      if (leased) await unlockLease(lease, conn.id);
      else lease.release();
    }
  }
}

/** Why a run is recorded as failed when its worker died mid-run. */
export const ABANDONED = "abandoned: the worker running it stopped";

async function unlockLease(lease: ReservedSql, connectionId: string): Promise<void> {
  try {
    await lease`select pg_advisory_unlock(${leaseKey(lease, connectionId)})`;
  } finally {
    lease.release();
  }
}

/** True while some worker, in any instance, holds the connection's lease. */
async function leaseHeld(sql: Sql, connectionId: string): Promise<boolean> {
  // A transaction-level try-lock conflicts with another session's lease and frees itself.
  return await sql.begin(async (tx) => {
    const [{ ok }] = await tx<{ ok: boolean }[]>`
      select pg_try_advisory_xact_lock(${leaseKey(tx, connectionId)}) as ok`;
    return !ok;
  });
}

/**
 * Waits while another worker holds the connection's lease. Returns the final status of run
 * `runId` when it finished, or null when there is no finished run to answer with (the worker
 * died, or the run was not yet recorded) and the caller should claim again.
 */
export async function waitForRun(sql: Sql, connectionId: string, runId: string | null) {
  for (;;) {
    // Lease first: a run records its outcome before it lets the lease go, so a run still
    // marked running after the lease was seen free was abandoned.
    const held = await leaseHeld(sql, connectionId);
    if (runId) {
      const [r] = await sql<{ status: string; error: string | null }[]>`
        select status, error from sync_runs where id = ${runId}`;
      if (r && r.status !== "running") return r;
    }
    if (!held) return null;
    await new Promise((res) => setTimeout(res, runId ? 250 : 50));
  }
}

/** Records a failed run. */
export async function failRun(sql: Sql, runId: string, error: string, calls: CallRecord[]) {
  await sql`
    update sync_runs set status = 'failed', finished_at = now(), error = ${error.slice(0, 1000)},
      provider_calls = ${calls.length}, calls = ${sql.json(calls as never)}
    where id = ${runId} and status = 'running'`;
}

/** Marks a connection broken with a reason a person can act on. */
export async function markConnectionError(sql: Sql, conn: ConnectionRow, reason: string) {
  await sql`
    update connections set status = 'error', status_reason = ${reason}, updated_at = now()
    where id = ${conn.id} and user_id = ${conn.user_id}`;
}

const CHUNK = 1000;
function chunks<T>(rows: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += CHUNK) out.push(rows.slice(i, i + CHUNK));
  return out;
}

/** What {@link replaceConnectionData} did. */
export type WriteOutcome =
  | { kind: "written"; version: number; holdings: HoldingsChanged; clearedPending: boolean }
  | { kind: "superseded" }
  | { kind: "gone" };

/**
 * Replaces one connection's accounts, positions, balances and transactions with `snap`, in
 * one transaction, and in the same transaction finishes the run, clears the pending flag,
 * stamps `last_synced_at`, repairs the connection's status and bumps the user's holdings
 * version. When `snap.transactions` is null (not fetched) the stored transactions stay
 * (only those of accounts that disappeared go with them); otherwise they are replaced and
 * `transactions_synced_at` is stamped. Accounts keep their ids (orders refer to them); rows
 * of other connections are never touched. Nothing is written when a newer run already
 * succeeded (superseded).
 */
export async function replaceConnectionData(
  sql: Sql,
  conn: ConnectionRow,
  snap: Snapshot,
  run: { runId: string; startedAt: Date; calls: CallRecord[] },
): Promise<WriteOutcome> {
  return await sql.begin(async (tx): Promise<WriteOutcome> => {
    await tx`select pg_advisory_xact_lock(${lockKey(tx, conn.id)})`;
    // Row locks in the order a cascading delete of the user takes them (user, then its
    // connections), so deleting a user while it syncs cannot deadlock.
    const [owner] = await tx`select id from users where id = ${conn.user_id} for no key update`;
    if (!owner) return { kind: "gone" };
    const [live] = await tx<{ id: string }[]>`
      select id from connections where id = ${conn.id} and user_id = ${conn.user_id} for update`;
    if (!live) return { kind: "gone" };
    const [newer] = await tx<{ id: string }[]>`
      select id from sync_runs where connection_id = ${conn.id} and status = 'succeeded'
        and started_at > ${run.startedAt} limit 1`;
    const finish = () =>
      tx`update sync_runs set status = 'succeeded', finished_at = now(),
           provider_calls = ${run.calls.length}, calls = ${tx.json(run.calls as never)}
         where id = ${run.runId}`;
    if (newer) {
      await finish();
      return { kind: "superseded" };
    }
    const now = new Date();
    const provider = conn.provider;
    const fetchedTxns = snap.transactions !== null;

    // Accounts: upsert by (connection, external id), drop the ones that disappeared.
    const ids = new Map<string, string>();
    for (const a of snap.accounts) {
      const [row] = await tx<{ id: string }[]>`
        insert into accounts (user_id, connection_id, provider, external_id, name, number_mask,
          type, currency, status, can_trade, synced_at)
        values (${conn.user_id}, ${conn.id}, ${provider}, ${a.external_id}, ${a.name},
          ${a.number_mask}, ${a.type}, ${a.currency}, ${a.status}, ${a.can_trade}, ${now})
        on conflict (connection_id, external_id) do update set name = excluded.name,
          number_mask = excluded.number_mask, type = excluded.type, currency = excluded.currency,
          status = excluded.status, can_trade = excluded.can_trade, synced_at = excluded.synced_at
        returning id`;
      ids.set(a.external_id, row.id);
    }
    const keep = [...ids.values()];
    await tx`delete from accounts where connection_id = ${conn.id} and user_id = ${conn.user_id}
      and not (id = any(${keep}::uuid[]))`;
    await tx`delete from positions where connection_id = ${conn.id} and user_id = ${conn.user_id}`;
    if (fetchedTxns) {
      await tx`delete from transactions where connection_id = ${conn.id} and user_id = ${conn.user_id}`;
    }
    await tx`delete from balances where user_id = ${conn.user_id} and account_id = any(${keep}::uuid[])`;

    const acc = (ext: string) => {
      const id = ids.get(ext);
      if (!id) throw new Error("provider data names an account it did not list");
      return id;
    };
    const instruments = await resolveInstruments(tx, provider, snap.positions);
    const positions = snap.positions.map((p, i) => ({
      user_id: conn.user_id,
      account_id: acc(p.account_external_id),
      connection_id: conn.id,
      provider,
      symbol: p.symbol,
      name: p.name,
      security_type: p.security_type,
      quantity: p.quantity,
      price: p.price,
      previous_close: p.previous_close,
      cost_basis: p.cost_basis,
      currency: p.currency,
      option_details: p.option_details ? tx.json(p.option_details as never) : null,
      provider_security_id: p.provider_security_id,
      instrument_id: instruments[i].instrument_id,
      unresolved_reason: instruments[i].unresolved_reason,
      synced_at: now,
    }));
    for (const c of chunks(positions)) {
      await tx`insert into positions ${tx(c)}`;
    }
    const balances = snap.balances.map((b) => ({
      account_id: acc(b.account_external_id),
      user_id: conn.user_id,
      currency: b.currency,
      cash: b.cash,
      buying_power: b.buying_power,
      synced_at: now,
    }));
    for (const c of chunks(balances)) await tx`insert into balances ${tx(c)}`;
    const seen = new Set<string>();
    const txns = (snap.transactions ?? []).filter((t) => {
      const k = `${t.account_external_id}\u0000${t.external_id}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    }).map((t) => ({
      user_id: conn.user_id,
      account_id: acc(t.account_external_id),
      connection_id: conn.id,
      provider,
      external_id: t.external_id,
      type: t.type,
      symbol: t.symbol,
      description: t.description,
      quantity: t.quantity,
      price: t.price,
      amount: t.amount,
      fee: t.fee,
      currency: t.currency,
      trade_date: t.trade_date,
      settlement_date: t.settlement_date,
    }));
    for (const c of chunks(txns)) await tx`insert into transactions ${tx(c)}`;

    await finish();
    // A transactions event that arrived while this run fetched holdings only stays pending:
    // the next refresh fetches them.
    const cleared = await tx`delete from pending_updates
      where connection_id = ${conn.id} and user_id = ${conn.user_id}
        and (${fetchedTxns} or not transactions)`;
    await tx`update connections set last_synced_at = ${now}, updated_at = now(),
        transactions_synced_at = coalesce(${fetchedTxns ? now : null}::timestamptz,
          transactions_synced_at),
        status = case when status = 'error' then 'active' else status end,
        status_reason = case when status = 'error' then null else status_reason end
      where id = ${conn.id} and user_id = ${conn.user_id}`;
    const [u] = await tx<{ holdings_version: string }[]>`
      update users set holdings_version = holdings_version + 1 where id = ${conn.user_id}
      returning holdings_version`;
    const version = Number(u.holdings_version);
    const holdings = await holdingsOf(tx, conn.user_id, version, now);
    return { kind: "written", version, holdings, clearedPending: cleared.count > 0 };
  });
}

/** A position's instrument, or why it has none. */
type InstrumentRef =
  | { instrument_id: string; unresolved_reason: null }
  | { instrument_id: null; unresolved_reason: string };

/**
 * Finds or creates the instrument of each position (in order), inside the sync's transaction.
 * Concurrent syncs of other connections may create the same instruments: inserts are
 * `on conflict do nothing` in a fixed order (so two writers cannot deadlock) and the ids are
 * read back afterwards. A provider id is recorded on its instrument the first time it is seen,
 * and finds the instrument of a position whose symbol alone does not.
 */
async function resolveInstruments(
  tx: TransactionSql,
  provider: Provider,
  positions: Snapshot["positions"],
): Promise<InstrumentRef[]> {
  const resolutions = positions.map((p) => resolveInstrument({ ...p, provider }));
  const specs = new Map<string, InstrumentSpec>();
  const keyOf = (i: { symbol: string; currency: string }) => `${i.symbol}\u0000${i.currency}`;
  for (const r of resolutions) {
    if (r.kind === "resolved" && !specs.has(keyOf(r.instrument))) {
      specs.set(keyOf(r.instrument), r.instrument);
    }
  }
  const sorted = [...specs.values()].sort((a, b) =>
    a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : a.currency < b.currency ? -1 : 1
  );
  // One provider per connection, so one provider-id column.
  const column = PROVIDER_ID_COLUMN[provider];
  const ids = new Map<string, string>();
  const missing: { id: string; value: string }[] = [];
  for (const c of chunks(sorted)) {
    await tx`insert into instruments ${
      tx(c.map((i) => ({
        kind: i.kind,
        symbol: i.symbol,
        currency: i.currency,
        name: i.name,
        occ_symbol: i.occ_symbol,
      })))
    } on conflict (symbol, currency) do nothing`;
    const rows = await tx<{ id: string; symbol: string; currency: string; known: boolean }[]>`
      select id, symbol, currency, ${tx(column)} is not null as known from instruments
       where (symbol, currency) in (select * from unnest(
         ${c.map((i) => i.symbol)}::text[], ${c.map((i) => i.currency)}::text[]))`;
    for (const r of rows) {
      ids.set(keyOf(r), r.id);
      const value = specs.get(keyOf(r))?.provider_id?.value;
      if (!r.known && value) missing.push({ id: r.id, value });
    }
  }
  // Provider ids are recorded in instrument-id order, for the same reason as the inserts'.
  missing.sort((a, b) => a.id < b.id ? -1 : 1);
  for (const m of missing) {
    await tx`update instruments set ${tx({ [column]: m.value })}
      where id = ${m.id} and ${tx(column)} is null`;
  }
  const out: InstrumentRef[] = [];
  for (const r of resolutions) {
    if (r.kind === "resolved") {
      out.push({ instrument_id: ids.get(keyOf(r.instrument))!, unresolved_reason: null });
      continue;
    }
    if (r.provider_id) {
      const [hit] = await tx<{ id: string }[]>`
        select id from instruments where ${tx(column)} = ${r.provider_id.value}
        order by created_at, id limit 1`;
      if (hit) {
        out.push({ instrument_id: hit.id, unresolved_reason: null });
        continue;
      }
    }
    out.push({ instrument_id: null, unresolved_reason: r.reason });
  }
  return out;
}

/** The user's positions per account, as `holdings.changed` carries them. */
export async function holdingsOf(
  tx: Sql | TransactionSql,
  userId: string,
  version: number,
  at: Date,
): Promise<HoldingsChanged> {
  const accounts = await tx<
    {
      id: string;
      connection_id: string;
      provider: Provider;
      currency: string;
      cash: string | null;
    }[]
  >`
    select a.id, a.connection_id, a.provider, a.currency,
      (select b.cash::text from balances b where b.account_id = a.id and b.currency = a.currency) as cash
    from accounts a where a.user_id = ${userId} order by a.id`;
  const positions = await tx<
    {
      account_id: string;
      symbol: string;
      quantity: string;
      price: string | null;
      currency: string;
      security_type: HeldPosition["security_type"];
      instrument_id: string | null;
      instrument_symbol: string | null;
      instrument_kind: InstrumentKind | null;
    }[]
  >`select p.account_id, p.symbol, p.quantity::text as quantity, p.price::text as price,
      p.currency, p.security_type, i.id as instrument_id, i.symbol as instrument_symbol,
      i.kind as instrument_kind
    from positions p left join instruments i on i.id = p.instrument_id
    where p.user_id = ${userId} order by p.account_id, p.symbol`;
  const byAccount = new Map<string, HeldPosition[]>();
  for (const p of positions) {
    const list = byAccount.get(p.account_id) ?? [];
    list.push({
      symbol: p.symbol,
      quantity: p.quantity,
      price: p.price,
      currency: p.currency,
      security_type: p.security_type,
      instrument: p.instrument_id && p.instrument_symbol && p.instrument_kind
        ? { id: p.instrument_id, symbol: p.instrument_symbol, kind: p.instrument_kind }
        : null,
    });
    byAccount.set(p.account_id, list);
  }
  return {
    user_id: userId,
    version,
    synced_at: at.toISOString(),
    accounts: accounts.map((a) => ({
      account_id: a.id,
      connection_id: a.connection_id,
      provider: a.provider,
      currency: a.currency,
      cash: a.cash ?? "0",
      positions: byAccount.get(a.id) ?? [],
    })),
  };
}
