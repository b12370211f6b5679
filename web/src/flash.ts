/**
 * A brief highlight on a figure that changed: green when it went up, red when down, ~600 ms.
 * The class is set on the element directly (no re-render per tick); styles.css animates it and
 * turns the animation off under `prefers-reduced-motion`.
 */
import type { RefObject } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { Exact } from "@meridian/portfolio/reprice";

/** Which way `next` moved from `prev`, or null when it did not (or either is unknown). */
export function direction(prev: string | null, next: string | null): "up" | "down" | null {
  if (prev === null || next === null || prev === next) return null;
  const c = new Exact(next).cmp(prev);
  return c > 0 ? "up" : c < 0 ? "down" : null;
}

/** Flashes the element behind the returned ref whenever `value` (a decimal string) changes. */
export function useFlash<T extends HTMLElement>(value: string | null): RefObject<T | null> {
  const ref = useRef<T>(null);
  const prev = useRef(value);
  useEffect(() => {
    const dir = direction(prev.current, value);
    prev.current = value;
    const el = ref.current;
    if (!dir || !el) return;
    el.classList.remove("flash-up", "flash-down");
    // Restart the animation when the figure moves again before the last flash ended.
    void el.offsetWidth;
    el.classList.add(`flash-${dir}`);
    const t = setTimeout(() => el.classList.remove(`flash-${dir}`), 700);
    return () => clearTimeout(t);
  }, [value]);
  return ref;
}
