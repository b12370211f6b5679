import { eventually } from "@meridian/runtime/testing";
import { waitForPortClosed } from "./processes.ts";

Deno.test({
  name: "a killed test process leaves no nats-server or PostgreSQL behind",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const script = `
      import { startNats, testCluster } from ${
      JSON.stringify(new URL("./mod.ts", import.meta.url).href)
    };
      const nats = await startNats();
      const pg = await testCluster();
      console.log(JSON.stringify({ nats: nats.port, natsDir: nats.dir, pg: pg.port, pgDir: pg.dir }));
      setInterval(() => {}, 1_000);
    `;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const started = JSON.parse(text);
    child.kill("SIGKILL");
    await child.status;
    await reader.cancel();
    await waitForPortClosed(started.nats, 15_000);
    await waitForPortClosed(started.pg, 15_000);
    for (const dir of [started.natsDir, started.pgDir]) {
      await eventually(() => Deno.stat(dir).then(() => false, () => true), {
        timeoutMs: 5_000,
        what: `${dir} removed`,
      });
    }
  },
});
