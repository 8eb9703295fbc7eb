// Generates the ES messages and service descriptors from Ember's own proto/ into gen/
// (gitignored) with the buf CLI and protoc-gen-es from node_modules, before a test imports
// them. Shared by the Connect client tests.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const bin = join(HERE, "node_modules", ".bin");

execFileSync(join(bin, "buf"), ["generate", join(HERE, "..", "..", "..", "proto")], {
  cwd: HERE,
  stdio: ["ignore", "inherit", "inherit"],
  env: {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    BUF_CACHE_DIR: process.env.BUF_CACHE_DIR || mkdtempSync(join(tmpdir(), "ember-buf-")),
  },
});
