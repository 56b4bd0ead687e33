// ONNX Runtime's side of bench/ort_compare.sh: times the GPT-2 exports of
// bench/make_gpt2_124m.py with onnxruntime-node on the CPU, the way
// `tvc-run --bench --json` times tvc, and prints one JSON object with the
// same keys (times in ms, sizes in bytes).
//
//   node bench/ort_bench.mjs --prefill-model prefill.onnx --decode-model decode.onnx
//       [--prefill-tokens 128,512] [--past 128,512] [--repeat 10] [--threads 2]
//       [--seed 0] [--sanity DIR]
//
// Sessions use `--threads` intra-op threads, one inter-op thread,
// sequential execution and graph optimisation level 'all'. Each
// measurement runs once untimed, then `--repeat` timed runs of
// session.run (inputs built before the clock starts); the median is
// reported. Prefill at T feeds T random token ids (positions 0..T-1) to the
// model without past; decode at P feeds one token at position P and a past
// of P random keys and values per layer to the model with past (attention
// cost does not depend on the values), which returns presents of P + 1.
// The prefill session is released before the decode session is created, so
// peak memory holds one copy of the weights. With --sanity DIR, the logits
// of DIR/input_ids.json are compared with DIR/logits.bin (PyTorch).

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import ort from 'onnxruntime-node';

function parseArgs(argv) {
  const args = {
    prefillTokens: [128], past: [128], repeat: 10, threads: 2, seed: 0,
  };
  const list = (text) => text.split(',').map((item) => Number.parseInt(item, 10));
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    switch (flag) {
      case '--prefill-model': args.prefillModel = value; break;
      case '--decode-model': args.decodeModel = value; break;
      case '--prefill-tokens': args.prefillTokens = list(value); break;
      case '--past': args.past = list(value); break;
      case '--repeat': args.repeat = Number.parseInt(value, 10); break;
      case '--threads': args.threads = Number.parseInt(value, 10); break;
      case '--seed': args.seed = Number.parseInt(value, 10); break;
      case '--sanity': args.sanity = value; break;
      default: throw new Error(`unknown option ${flag}`);
    }
  }
  if (!args.prefillModel || !args.decodeModel) {
    throw new Error('--prefill-model and --decode-model are required');
  }
  return args;
}

// mulberry32: a small seeded PRNG, so token ids are the same every run.
function makeRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function progress(done, total, what) {
  if (!process.stderr.isTTY) return;
  const width = 24;
  const filled = Math.floor((width * done) / total);
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  process.stderr.write(`\r\x1b[K[${bar}] ${done}/${total} ${done < total ? what : ''}`);
  if (done >= total) process.stderr.write('\r\x1b[K');
}

function int64Tensor(values, dims) {
  return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const options = {
    executionProviders: ['cpu'],
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  const random = makeRandom(args.seed);
  const vocab = 50257;
  const tokenIds = (count) => Array.from({ length: count }, () => Math.floor(random() * vocab));
  const arange = (start, count) => Array.from({ length: count }, (_, i) => start + i);

  const total = args.prefillTokens.length * (1 + args.repeat)
    + args.past.length * (1 + args.repeat);
  let done = 0;
  const report = {
    engine: 'onnxruntime-node',
    version: ort.env.versions?.common ?? 'unknown',
    threads: args.threads,
    repeat: args.repeat,
    session_ms: {},
    prefill: [],
    decode: [],
  };

  async function measure(session, feeds, what) {
    progress(done++, total, `${what} (warm-up)`);
    await session.run(feeds);
    const runs = [];
    for (let i = 0; i < args.repeat; ++i) {
      progress(done++, total, what);
      const start = performance.now();
      await session.run(feeds);
      runs.push(performance.now() - start);
    }
    return runs;
  }

  // Prefill: the model without past.
  let start = performance.now();
  let session = await ort.InferenceSession.create(args.prefillModel, options);
  report.session_ms.prefill = performance.now() - start;
  if (args.sanity) {
    const ids = JSON.parse(readFileSync(`${args.sanity}/input_ids.json`, 'utf8'));
    const want = new Float32Array(readFileSync(`${args.sanity}/logits.bin`).buffer.slice(0));
    const out = await session.run({
      input_ids: int64Tensor(ids, [1, ids.length]),
      position_ids: int64Tensor(arange(0, ids.length), [1, ids.length]),
    });
    const got = out.logits.data;
    let maxError = 0;
    let maxWant = 0;
    for (let i = 0; i < want.length; ++i) {
      maxError = Math.max(maxError, Math.abs(got[i] - want[i]));
      maxWant = Math.max(maxWant, Math.abs(want[i]));
    }
    report.sanity = { max_abs_error: maxError, max_abs_logit: maxWant,
      elements: want.length, ok: got.length === want.length && maxError <= 1e-4 * maxWant };
  }
  for (const tokens of args.prefillTokens) {
    const feeds = {
      input_ids: int64Tensor(tokenIds(tokens), [1, tokens]),
      position_ids: int64Tensor(arange(0, tokens), [1, tokens]),
    };
    const runs = await measure(session, feeds, `prefill ${tokens} tokens`);
    const med = median(runs);
    report.prefill.push({ tokens, past: 0, median_ms: med, tokens_per_s: (1000 * tokens) / med,
      runs_ms: runs });
  }
  await session.release();
  session = undefined;

  // Decode: one token after a past of P.
  start = performance.now();
  session = await ort.InferenceSession.create(args.decodeModel, options);
  report.session_ms.decode = performance.now() - start;
  const pastInputs = session.inputMetadata.filter((m) => m.name.startsWith('past_key_values.'));
  for (const past of args.past) {
    const feeds = {
      input_ids: int64Tensor(tokenIds(1), [1, 1]),
      position_ids: int64Tensor([past], [1, 1]),
    };
    for (const input of pastInputs) {
      // [batch, heads, past, head_dim]; batch 1, the static sizes of the export.
      const [, heads, , headDim] = input.shape;
      const data = Float32Array.from({ length: heads * past * headDim }, () => random() - 0.5);
      feeds[input.name] = new ort.Tensor('float32', data, [1, heads, past, headDim]);
    }
    const runs = await measure(session, feeds, `decode at past ${past}`);
    const med = median(runs);
    report.decode.push({ tokens: 1, past, median_ms: med, tokens_per_s: 1000 / med, runs_ms: runs });
  }
  progress(total, total, 'done');
  report.peak_rss_bytes = process.resourceUsage().maxRSS * 1024;
  report.rss_bytes = process.memoryUsage().rss;
  await session.release();
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main().catch((error) => {
  process.stderr.write(`ort_bench.mjs: ${error.stack ?? error}\n`);
  process.exit(1);
});
