/**
 * Builds the dashboard into `web/dist/`: `deno bundle` (esbuild inside Deno, which reads the
 * workspace's JSX settings and npm imports), a content hash in the script and stylesheet
 * names so they can be cached for ever, and index.html pointing at them.
 * @module
 */

const here = new URL(".", import.meta.url).pathname;
const src = `${here}src`;
const finalDist = `${here}dist`;

async function hash(data: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let out = "";
  for (let i = 0; i < 8; i++) out += alphabet[digest[i] % 32];
  return out;
}

/** Builds the dashboard; returns the names of the files written. */
export async function build(): Promise<string[]> {
  // Built beside, then swapped in, so a running api never sees a half-written dist.
  const dist = `${here}dist.tmp-${Deno.pid}`;
  await Deno.remove(dist, { recursive: true }).catch(() => {});
  await Deno.mkdir(dist, { recursive: true });
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform=browser",
      "--minify",
      "--sourcemap=linked",
      "-o",
      `${dist}/app.js`,
      `${src}/main.tsx`,
    ],
    cwd: here,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`deno bundle failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  const js = await Deno.readFile(`${dist}/app.js`);
  const jsName = `app-${await hash(js)}.js`;
  const map = await Deno.readTextFile(`${dist}/app.js.map`).catch(() => null);
  let jsText = new TextDecoder().decode(js);
  jsText = jsText.replace(
    /\/\/# sourceMappingURL=app\.js\.map\s*$/,
    `//# sourceMappingURL=${jsName}.map\n`,
  );
  await Deno.writeTextFile(`${dist}/${jsName}`, jsText);
  await Deno.remove(`${dist}/app.js`);
  if (map !== null) {
    await Deno.writeTextFile(`${dist}/${jsName}.map`, map);
    await Deno.remove(`${dist}/app.js.map`);
  }
  const css = await Deno.readFile(`${src}/styles.css`);
  const cssName = `styles-${await hash(css)}.css`;
  await Deno.writeFile(`${dist}/${cssName}`, css);
  await Deno.copyFile(`${src}/favicon.svg`, `${dist}/favicon.svg`);
  const html = (await Deno.readTextFile(`${src}/index.html`))
    .replace("/app.js", `/${jsName}`)
    .replace("/styles.css", `/${cssName}`);
  await Deno.writeTextFile(`${dist}/index.html`, html);
  await Deno.remove(finalDist, { recursive: true }).catch(() => {});
  await Deno.rename(dist, finalDist);
  return ["index.html", jsName, cssName, "favicon.svg"];
}

if (import.meta.main) {
  const t0 = performance.now();
  const files = await build();
  console.log(
    `web: built ${files.join(", ")} into web/dist in ${Math.round(performance.now() - t0)} ms`,
  );
}
