// Bundles the UI for embedding: src/main.js (+ uPlot) → app.js, src/style.css (+ uPlot's CSS)
// → app.css, and index.html, all into the directory given as the first argument (the meson
// build passes <build>/ui/dist; `npm run build` uses ui/dist). Minified, no source maps: the
// bundle is compiled into the ember binary (scripts/embed_assets.py).
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] || join(here, "dist"));
mkdirSync(out, { recursive: true });
const common = { bundle: true, minify: true, logLevel: "warning", legalComments: "none" };
await build({
  ...common,
  entryPoints: [join(here, "src/main.js")],
  outfile: join(out, "app.js"),
  format: "iife",
  target: ["chrome100", "firefox100", "safari15"],
});
await build({ ...common, entryPoints: [join(here, "src/style.css")], outfile: join(out, "app.css") });
copyFileSync(join(here, "index.html"), join(out, "index.html"));
