/**
 * Reading one api answer into a component, checked by its schema: the last answer stays shown
 * while a newer one loads (`loading`), an answer to an older request is dropped, and a failure
 * is a sentence.
 * @module
 */
import type * as z from "zod/mini";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api } from "./api.ts";
import { checked } from "./order_schema.ts";

export interface Loaded<T> {
  /** The last answer read (perhaps to an earlier path while `loading`). */
  data: T | null;
  /** Why the last request failed, or null. */
  error: string | null;
  loading: boolean;
  /** Reads the answer again. */
  reload: () => void;
}

/**
 * `GET path` (nothing while null), checked by `schema` (`what` names it in the error). Read
 * again when `path` or `version` changes, and every `refreshMs` while the tab is visible.
 */
export function useApi<T>(
  path: string | null,
  schema: z.ZodMiniType<T>,
  what: string,
  { refreshMs, version }: { refreshMs?: number; version?: string } = {},
): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(path !== null);
  const [reloads, setReloads] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    if (path === null) return;
    const request = ++latest.current;
    setLoading(true);
    api<unknown>(path)
      .then((body) => {
        if (request !== latest.current) return;
        setData(checked(schema, body, what));
        setError(null);
      })
      .catch((e) => {
        if (request === latest.current) setError((e as Error).message);
      })
      .finally(() => {
        if (request === latest.current) setLoading(false);
      });
  }, [path, version, reloads]);
  useEffect(() => {
    if (!refreshMs || path === null) return;
    const t = setInterval(() => {
      if (document.visibilityState === "visible") setReloads((n) => n + 1);
    }, refreshMs);
    return () => clearInterval(t);
  }, [path, refreshMs]);
  const reload = useCallback(() => setReloads((n) => n + 1), []);
  return { data, error, loading, reload };
}
