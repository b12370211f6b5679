/**
 * The types of what the api answers, for the dashboard to import (`import type`) instead of
 * declaring them again: one shape per answer, checked by the compiler on both sides.
 * @module
 */
import type { z } from "zod";
import type * as S from "./schemas.ts";

export type {
  AccountPositionView as AccountPosition,
  AccountView as Account,
  AggregatedPositionView as AggregatedPosition,
  HoldingsView as Holdings,
  PendingUpdatesView as PendingUpdates,
  PositionShareView as PositionShare,
  ProviderSummaryView as ProviderSummary,
} from "@meridian/portfolio";
export type { Provider } from "@meridian/proto";

/** `GET /api/me`. */
export type Me = z.infer<typeof S.MeView>;
/** The signed-in user. */
export type User = z.infer<typeof S.UserView>;
/** One entry of `GET /api/connections`. */
export type Connection = z.infer<typeof S.ConnectionView>;
/** `POST /api/holdings/refresh`: accepted (202) or nothing to do (200). */
export type RefreshAnswer = z.infer<typeof S.RefreshAccepted> | z.infer<typeof S.RefreshUpToDate>;
