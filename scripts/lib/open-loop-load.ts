import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Pool } from "undici";

/**
 * An open-loop load generator, run as its own process by scripts/load.ts:
 * requests arrive as a Poisson process at a fixed rate (people polling
 * independently of each other), whether or not earlier ones were answered, and
 * each latency counts from the moment its request was due, so neither a slow
 * generator nor a queueing server can hide a wait (no coordinated omission).
 * autocannon, by contrast, keeps a fixed number of connections busy (closed
 * loop) and at a fixed rate sends each second's requests together.
 *
 * Usage: open-loop-load.ts <url> <requests per second> <seconds> [<headers as JSON>]
 * Prints one line of JSON: { requests, rate, p50, p90, p99, max, non2xx, errors }.
 */
const [url, rateArg, secondsArg, headersJson] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
if (!url || !(rate > 0) || !(seconds > 0)) {
  console.error("usage: open-loop-load.ts <url> <requests per second> <seconds> [<headers as JSON>]");
  process.exit(2);
}
const headers: Record<string, string> = headersJson ? (JSON.parse(headersJson) as Record<string, string>) : {};
const target = new URL(url);
const pool = new Pool(target.origin, { connections: 64, pipelining: 1 });

// Arrival times, drawn up front: exponential gaps with mean 1/rate.
const due: number[] = [];
for (let at = 0; at < seconds * 1000; at += (-Math.log(1 - Math.random()) * 1000) / rate) due.push(at);

const latencies: number[] = [];
let non2xx = 0;
let errors = 0;

async function send(dueAt: number) {
  try {
    const response = await pool.request({ path: target.pathname + target.search, method: "GET", headers });
    await response.body.dump();
    if (response.statusCode < 200 || response.statusCode >= 400) non2xx++;
  } catch {
    errors++;
  }
  latencies.push(performance.now() - dueAt);
}

const start = performance.now();
const inFlight: Promise<void>[] = [];
for (const offset of due) {
  const wait = start + offset - performance.now();
  if (wait > 1) await sleep(wait);
  inFlight.push(send(start + offset));
}
await Promise.all(inFlight);
await pool.close();

latencies.sort((a, b) => a - b);
const at = (quantile: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(quantile * latencies.length))] * 10) / 10;
console.log(JSON.stringify({ requests: latencies.length, rate, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1), non2xx, errors }));
