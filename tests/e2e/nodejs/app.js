// A small Node.js service profiled by Pyroscope's own SDK (@pyroscope/nodejs), pointed at
// Ember by EMBER_URL: CPU-heavy work in emberHotLoop (3 parts) and emberColdLoop (1 part),
// allocations kept alive in emberAllocator, for RUN_MS, uploading every FLUSH_MS.
// Run by tests/integration/test_sdk_nodejs.py.
const Pyroscope = require("@pyroscope/nodejs");

const FLUSH_MS = Number(process.env.FLUSH_MS || 2000);
Pyroscope.init({
  serverAddress: process.env.EMBER_URL,
  appName: process.env.APP_NAME,
  tenantID: process.env.TENANT || undefined,
  flushIntervalMs: FLUSH_MS,
  tags: { env: "e2e" },
  wall: { samplingDurationMs: FLUSH_MS, collectCpuTime: true },
  heap: { samplingIntervalBytes: 4096 },
});
Pyroscope.start();
console.log(`started ${Date.now()}`);

function emberHotLoop(ms) {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) for (let i = 0; i < 1e5; i++) x += Math.sqrt(i);
  return x;
}

function emberColdLoop(ms) {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) for (let i = 0; i < 1e5; i++) x += Math.sqrt(i);
  return x;
}

const live = [];
function emberAllocator() {
  for (let i = 0; i < 500; i++) live.push(new Array(64).fill(i));
  if (live.length > 100000) live.splice(0, 50000);
}

const stopAt = Date.now() + Number(process.env.RUN_MS || 8000);
function tick() {
  emberHotLoop(30);
  emberColdLoop(10);
  emberAllocator();
  if (Date.now() < stopAt) setImmediate(tick);
  else Pyroscope.stop().then(() => console.log("stopped"));
}
tick();
