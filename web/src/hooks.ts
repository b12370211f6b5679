/** Small hooks the pages share. */
import { useEffect, useState } from "preact/hooks";

/** The current time, renewed every `everyMs`, so "Last synced 1 minute ago" keeps true. */
export function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}
