#!/usr/bin/env node
// Runs ONNX models with ONNX Runtime (npm onnxruntime-node), the reference
// Topiary's engine is compared with.
//
//   node tools/ort/run.mjs --model M.onnx --input NAME=FILE.pb [--input ...]
//        [--output-dir DIR] [--threads N] [--warmup W] [--runs R]
//   node tools/ort/run.mjs --jobs JOBS.json
//
// Inputs are TensorProto files (tensorproto.mjs); a bare FILE.pb feeds the
// input named inside the file, or else the next unfed input. Outputs are
// written as DIR/output_<i>.pb (TensorProto with raw_data). With --runs R > 0
// the session runs W times to warm up, then R timed runs; latency is the
// wall time around session.run in milliseconds (includes the small cost of
// the JavaScript binding). One JSON object goes to stdout:
//   {"outputs":[{"name","shape","type","file"}], "threads":N, "runs":R,
//    "latency_ms":{"median","min","max"}}          (latency_ms only when R > 0)
// Errors: one line "error: ..." on stderr, exit code 2.
//
// --jobs runs many models in one process (starting Node and loading ONNX
// Runtime costs far more than a small model): JOBS.json is an array of
// {"model", "inputs":[NAME=FILE...], "output_dir", "threads", "warmup", "runs"};
// stdout is an array of reports, a failed job giving {"error": "..."}.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { decodeTensorProto, encodeTensorProto } from './tensorproto.mjs';

class UsageError extends Error {}

function parseArgs(argv) {
  const opts = { inputs: [], threads: 1, warmup: 0, runs: 0, output_dir: '' };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new UsageError(`option ${a} needs a value`);
      return argv[++i];
    };
    const count = (min) => {
      const s = value();
      const v = Number(s);
      if (!Number.isInteger(v) || v < min) throw new UsageError(`option ${a} needs an integer >= ${min}, got '${s}'`);
      return v;
    };
    if (a === '--model') opts.model = value();
    else if (a === '--jobs') opts.jobs = value();
    else if (a === '--input') opts.inputs.push(value());
    else if (a === '--output-dir') opts.output_dir = value();
    else if (a === '--threads') opts.threads = count(0);
    else if (a === '--warmup') opts.warmup = count(0);
    else if (a === '--runs') opts.runs = count(0);
    else throw new UsageError(`unknown option '${a}'`);
  }
  if (!opts.model && !opts.jobs) throw new UsageError('--model or --jobs is required');
  return opts;
}

// onnxruntime-node lives in the repository's node_modules; resolve it from
// there so the script works from any working directory.
function loadOrt() {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
  const require = createRequire(path.join(root, 'package.json'));
  try {
    return require('onnxruntime-node');
  } catch (e) {
    throw new UsageError(`onnxruntime-node is not installed (run scripts/setup.sh): ${e.message}`);
  }
}

const firstLine = (e) => String(e && e.message ? e.message : e).split('\n')[0];

async function runJob(ort, job) {
  const threads = job.threads ?? 1, warmup = job.warmup ?? 0, runs = job.runs ?? 0;
  let session;
  try {
    session = await ort.InferenceSession.create(job.model, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,  // errors only: old-opset warnings would drown the report
    });
  } catch (e) {
    throw new Error(`onnxruntime cannot load ${job.model}: ${firstLine(e)}`);
  }
  const feeds = {};
  const unfed = [...session.inputNames];
  for (const spec of job.inputs ?? []) {
    const eq = spec.indexOf('=');
    let name = eq > 0 ? spec.slice(0, eq) : '';
    const file = eq > 0 ? spec.slice(eq + 1) : spec;
    let t;
    try {
      t = decodeTensorProto(fs.readFileSync(file));
    } catch (e) {
      throw new Error(`${file}: ${firstLine(e)}`);
    }
    if (!name) name = unfed.includes(t.name) ? t.name : unfed[0];
    if (!name || !unfed.includes(name)) throw new Error(`the model has no unfed input for ${file}`);
    unfed.splice(unfed.indexOf(name), 1);
    feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
  }
  if (unfed.length) throw new Error(`missing input '${unfed[0]}'`);

  let results;
  const times = [];
  try {
    for (let i = 0; i < warmup; ++i) await session.run(feeds);
    for (let i = 0; i < Math.max(runs, 1); ++i) {
      const t0 = process.hrtime.bigint();
      results = await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  } catch (e) {
    throw new Error(`onnxruntime failed to run ${job.model}: ${firstLine(e)}`);
  }

  const report = { outputs: [], threads, runs };
  if (job.output_dir) fs.mkdirSync(job.output_dir, { recursive: true });
  session.outputNames.forEach((name, i) => {
    const v = results[name];
    const entry = { name, shape: v.dims, type: v.type };
    if (job.output_dir) {
      entry.file = path.join(job.output_dir, `output_${i}.pb`);
      fs.writeFileSync(entry.file, encodeTensorProto({ name, type: v.type, dims: v.dims, data: v.data }));
    }
    report.outputs.push(entry);
  });
  if (runs > 0) {
    const sorted = [...times].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    report.latency_ms = { median, min: sorted[0], max: sorted[sorted.length - 1] };
  }
  await session.release?.();
  return report;
}

async function main() {
  try {
    const opts = parseArgs(process.argv.slice(2));
    const ort = loadOrt();
    if (opts.jobs) {
      let jobs;
      try {
        jobs = JSON.parse(fs.readFileSync(opts.jobs, 'utf8'));
      } catch (e) {
        throw new UsageError(`cannot read jobs file ${opts.jobs}: ${firstLine(e)}`);
      }
      if (!Array.isArray(jobs)) throw new UsageError(`jobs file ${opts.jobs} must hold a JSON array`);
      const reports = [];
      for (const job of jobs) {
        try {
          reports.push(await runJob(ort, job));
        } catch (e) {
          reports.push({ error: firstLine(e) });
        }
      }
      process.stdout.write(JSON.stringify(reports) + '\n');
    } else {
      process.stdout.write(JSON.stringify(await runJob(ort, opts)) + '\n');
    }
  } catch (e) {
    process.stderr.write(`error: ${firstLine(e)}\n`);
    process.exit(2);
  }
}

main();
