// Shared by the UI browser tests and the render benchmark: starts the real `ember server`
// (EMBER_BIN, default build/ember) on 127.0.0.1:<free port> over a fresh data dir, ingests
// folded profiles through /ingest, and launches Debian's Chromium through playwright-core.
// stop() sends SIGTERM and fails on an unclean exit or a sanitizer report in the server's
// output, as tests/integration/embertest.py does for the Python suites.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, "../../..");
const SANITIZER = ["ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer"];

// EMBER_BIN relative to the cwd, else to the repo root (as tests/integration/embertest.py).
export function emberBin() {
  const p = process.env.EMBER_BIN || "build/ember";
  if (isAbsolute(p)) return p;
  return existsSync(resolve(p)) ? resolve(p) : resolve(REPO, p);
}

// Screenshots and other artefacts: EMBER_UI_OUT, else next to the binary (a build dir,
// ignored by git), never in the source tree.
export function outDir(name) {
  const dir = process.env.EMBER_UI_OUT || join(dirname(emberBin()), "e2e-ui-out", name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

export async function startServer(extraArgs = []) {
  if (!existsSync(emberBin())) throw new Error(`no ember binary at ${emberBin()} (set EMBER_BIN)`);
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), "ember-ui-"));
  const args = ["server", "-server.http-listen-address=127.0.0.1", `-server.http-listen-port=${port}`,
    `-storage.path=${data}`, "-log.level=warn", ...extraArgs];
  const proc = spawn(emberBin(), args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  proc.stdout.on("data", (d) => (output += d));
  proc.stderr.on("data", (d) => (output += d));
  const exited = new Promise((res) => proc.once("exit", (code, sig) => res({ code, sig })));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`ember server exited during startup:\n${output}`);
    try {
      if ((await fetch(`${base}/ready`)).ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`ember server not ready after 15 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    base,
    port,
    async ingest(name, folded, from, until, params = "") {
      const url = `${base}/ingest?name=${encodeURIComponent(name)}&from=${from}&until=${until ?? from + 10}${params}`;
      const r = await fetch(url, { method: "POST", body: folded });
      if (!r.ok) throw new Error(`ingest ${name}: ${r.status} ${await r.text()}`);
    },
    async stop() {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 20000);
      const { code, sig } = await exited;
      clearTimeout(timer);
      rmSync(data, { recursive: true, force: true });
      const bad = SANITIZER.find((m) => output.includes(m));
      if (bad) throw new Error(`sanitizer report in the server output:\n${output}`);
      if (code !== 0) throw new Error(`ember server exited with ${code ?? sig}:\n${output}`);
    },
  };
}

export const CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: CHROMIUM_FLAGS,
    headless: true,
  });
}

// Pages share one browser context (a new context per page costs more than the page) unless
// fresh is set (a test of localStorage, say); closePages() ends a test's pages.
const shared = new WeakMap();
const newContext = (browser) => browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });

// Opens url in a new page and waits until the UI has finished its first view load.
export async function openUI(browser, url, { fresh = false } = {}) {
  let ctx = fresh ? null : shared.get(browser);
  if (!ctx) {
    ctx = await newContext(browser);
    if (!fresh) shared.set(browser, ctx);
  }
  const page = await ctx.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e.message));
  await page.goto(url);
  await waitLoaded(page, 1);
  return page;
}

export async function closePages(browser) {
  for (const ctx of browser.contexts()) for (const p of ctx.pages()) await p.close();
}

export async function waitLoaded(page, atLeast) {
  await page.waitForFunction((n) => Number(document.body.dataset.loads || 0) >= n, atLeast, { timeout: 15000 });
}

// Runs fn, then waits for the view load it triggers.
export async function reloadsAfter(page, fn) {
  const before = await page.evaluate(() => Number(document.body.dataset.loads || 0));
  await fn();
  await waitLoaded(page, before + 1);
}
