/**
 * The Plaid imitation's state: items (with access tokens, accounts and their demo data), link
 * tokens with their Hosted Link sessions, and public tokens; saved and restored with the webhook
 * signing key as {@link PlaidState}.
 * @module
 */
import { alnumId } from "../core.ts";
import { type DemoAccount, plaidDemoAccounts } from "../demo_data.ts";
import type { PlaidSignerState } from "../webhooks.ts";

/** How long a link token works. */
export const LINK_TTL_MS = 4 * 3600_000;
/** How long a public token can be exchanged (once). */
const PUBLIC_TOKEN_TTL_MS = 30 * 60_000;

/** An account of an item. */
export interface PlaidAccount {
  accountId: string;
  data: DemoAccount;
}

/** A linked login at one institution. */
export interface Item {
  itemId: string;
  accessToken: string;
  institutionId: string;
  webhook: string | null;
  accounts: PlaidAccount[];
  /** Set while the login needs repair; data calls answer it. */
  error: Record<string, unknown> | null;
  createdAt: number;
  /** Admin holding changes since the last HOLDINGS webhook. */
  newHoldings: number;
  updatedHoldings: number;
}

/** One visit to the Hosted Link page. */
export interface LinkSession {
  id: string;
  startedAt: number;
  finishedAt: number | null;
  publicToken: string | null;
  itemId: string | null;
  exited: boolean;
}

/** A link token from `/link/token/create`; `updateItemId` means update mode. */
export interface LinkToken {
  token: string;
  clientUserId: string;
  clientName: string;
  webhook: string | null;
  completionRedirect: string | null;
  hosted: boolean;
  updateItemId: string | null;
  products: string[];
  countryCodes: string[];
  language: string;
  createdAt: number;
  expiresAt: number;
  sessions: LinkSession[];
}

/** A public token waiting to be exchanged for the item's access token. */
export interface PublicToken {
  itemId: string;
  expiresAt: number;
  used: boolean;
}

/** The persisted Plaid state: plain JSON, decimals as strings; rate-limit windows left out. */
export interface PlaidState {
  signer: PlaidSignerState;
  items: Item[];
  linkTokens: LinkToken[];
  publicTokens: [string, PublicToken][];
}

/** Everything the Plaid imitation keeps but its signing key, in memory. */
export class PlaidStore {
  readonly items = new Map<string, Item>();
  /** Link tokens by token. */
  readonly linkTokens = new Map<string, LinkToken>();
  readonly publicTokens = new Map<string, PublicToken>();
  // access token → item id
  readonly #byAccessToken = new Map<string, string>();

  /** Starts empty, or from `saved` (throws if an item is malformed). */
  constructor(saved?: Omit<PlaidState, "signer">) {
    if (!saved) return;
    for (const item of saved.items) {
      if (!Array.isArray(item.accounts) || typeof item.accessToken !== "string") {
        throw new Error(`saved Plaid state: bad item ${item.itemId}`);
      }
      this.items.set(item.itemId, item);
      this.#byAccessToken.set(item.accessToken, item.itemId);
    }
    for (const t of saved.linkTokens) this.linkTokens.set(t.token, t);
    for (const [token, p] of saved.publicTokens) this.publicTokens.set(token, p);
  }

  /** The state as plain JSON (the signing key is added by the caller). */
  snapshot(): Omit<PlaidState, "signer"> {
    return {
      items: [...this.items.values()],
      linkTokens: [...this.linkTokens.values()],
      publicTokens: [...this.publicTokens],
    };
  }

  /** The item an access token belongs to. */
  itemByAccessToken(accessToken: unknown): Item | undefined {
    const id = typeof accessToken === "string" ? this.#byAccessToken.get(accessToken) : undefined;
    return id ? this.items.get(id) : undefined;
  }

  /** A new item at the institution, holding its demo accounts. */
  createItem(institutionId: string, webhook: string | null, now: number): Item {
    const itemId = alnumId(37);
    const item: Item = {
      itemId,
      accessToken: `access-sandbox-${crypto.randomUUID()}`,
      institutionId,
      webhook,
      accounts: plaidDemoAccounts(institutionId).map((data) => ({ accountId: alnumId(37), data })),
      error: null,
      createdAt: now,
      newHoldings: 0,
      updatedHoldings: 0,
    };
    this.items.set(itemId, item);
    this.#byAccessToken.set(item.accessToken, itemId);
    return item;
  }

  /** Forgets an item; its access token stops working. */
  removeItem(item: Item): void {
    this.items.delete(item.itemId);
    this.#byAccessToken.delete(item.accessToken);
  }

  /** A new single-use public token for the item. */
  newPublicToken(item: Item, now: number): string {
    const pt = `public-sandbox-${crypto.randomUUID()}`;
    this.publicTokens.set(pt, {
      itemId: item.itemId,
      expiresAt: now + PUBLIC_TOKEN_TTL_MS,
      used: false,
    });
    return pt;
  }
}
