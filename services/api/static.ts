/**
 * Serves the built dashboard (web/dist): files by path, and index.html for any other
 * non-API path so client-side routes survive a reload. Files are read once and kept.
 * @module
 */
import { Hono } from "hono";

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  map: "application/json",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  json: "application/json",
  webmanifest: "application/manifest+json",
  txt: "text/plain; charset=utf-8",
};

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join("; ");

/** The default location of the build output. */
export const DEFAULT_WEB_DIST = new URL("../../web/dist/", import.meta.url).pathname;

/** Routes serving `dir`; a missing build answers a plain explanation, not a crash. */
export function staticFiles(dir = DEFAULT_WEB_DIST): Hono {
  const app = new Hono();
  const cache = new Map<string, Uint8Array<ArrayBuffer> | null>();
  const read = async (rel: string) => {
    if (cache.has(rel)) return cache.get(rel)!;
    let data: Uint8Array<ArrayBuffer> | null = null;
    try {
      data = await Deno.readFile(`${dir.replace(/\/$/, "")}/${rel}`);
    } catch {
      data = null;
    }
    if (cache.size < 500) cache.set(rel, data);
    return data;
  };
  app.get("*", async (c) => {
    const path = decodeURIComponent(new URL(c.req.url).pathname);
    const rel = path.replace(/^\/+/, "");
    const safe = rel !== "" && !rel.split("/").some((p) => p === ".." || p.startsWith("."));
    const ext = rel.includes(".") ? rel.slice(rel.lastIndexOf(".") + 1) : "";
    if (safe && ext) {
      const file = await read(rel);
      if (file) {
        const hashed = /-[A-Z0-9]{8}\./.test(rel);
        return c.body(file, 200, {
          "content-type": TYPES[ext] ?? "application/octet-stream",
          "cache-control": hashed ? "public, max-age=31536000, immutable" : "no-cache",
        });
      }
      return c.text("not found", 404);
    }
    const index = await read("index.html");
    if (!index) {
      return c.text(
        "The dashboard is not built. Run: deno task --cwd web build",
        503,
      );
    }
    return c.body(index, 200, {
      "content-type": TYPES.html,
      "cache-control": "no-cache",
      "content-security-policy": CSP,
    });
  });
  return app;
}
