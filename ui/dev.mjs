// Development server: rebuilds the bundle on every save (esbuild watch) into ui/dist and
// serves it on :4041, passing every other request to a running Ember (EMBER_URL, default
// http://127.0.0.1:4040) — edit, reload the page, no ninja or server restart.
//   cd ui && npm run dev        (with `make run` in another terminal)
import { context } from "esbuild";
import { readFileSync } from "node:fs";
import http from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const upstream = new URL(process.env.EMBER_URL || "http://127.0.0.1:4040");
const port = Number(process.env.PORT || 4041);
const common = { bundle: true, logLevel: "info", sourcemap: "inline" };
const js = await context({ ...common, entryPoints: [join(here, "src/main.js")], outfile: join(dist, "app.js"), format: "iife" });
const css = await context({ ...common, entryPoints: [join(here, "src/style.css")], outfile: join(dist, "app.css") });
await Promise.all([js.watch(), css.watch()]);

const TYPES = { ".js": "text/javascript", ".css": "text/css" };
http
  .createServer((req, res) => {
    const path = req.url.split("?")[0];
    const asset = /^\/assets\/(app\.(?:js|css))$/.exec(path);
    const page = req.method === "GET" && (path === "/" || (!asset && /text\/html/.test(req.headers.accept || "")));
    if (asset || page) {
      const file = asset ? join(dist, asset[1]) : join(here, "index.html");
      res.writeHead(200, { "Content-Type": asset ? TYPES[path.slice(path.lastIndexOf("."))] : "text/html", "Cache-Control": "no-store" });
      res.end(readFileSync(file));
      return;
    }
    const up = http.request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } },
      (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      },
    );
    up.on("error", (e) => {
      res.writeHead(502, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ code: "unavailable", message: `dev proxy: ${e.message}` }));
    });
    req.pipe(up);
  })
  .listen(port, "127.0.0.1", () => console.log(`ember ui dev server: http://127.0.0.1:${port}/ → API at ${upstream.origin}`));
