// The ONNX Runtime peer of bench_infer (onnxruntime-node, CPU execution provider, 2 intra-op threads, all
// graph optimisations): runs an ONNX file for SECONDS and prints one JSON line.
//
//   node ort_infer.js FILE.onnx BATCH SECONDS
const ort = require("onnxruntime-node");

async function main() {
  const [file, batchArg, secondsArg] = process.argv.slice(2);
  const batch = Number(batchArg), seconds = Number(secondsArg);
  const session = await ort.InferenceSession.create(file, {
    intraOpNumThreads: 2,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    executionMode: "sequential",
  });
  const data = new Float32Array(batch * 3 * 224 * 224);
  for (let i = 0; i < data.length; ++i) data[i] = Math.sin(i * 0.013);
  const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", data, [batch, 3, 224, 224]) };
  for (let i = 0; i < 3; ++i) await session.run(feeds);
  let runs = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds) {
    await session.run(feeds);
    ++runs;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  const peakMib = process.resourceUsage().maxRSS / 1024;  // maxRSS is in KiB
  console.log(JSON.stringify({ engine: "onnxruntime", file, batch, img_per_s: (runs * batch) / elapsed,
                               ms: (1e3 * elapsed) / runs, peak_mib: peakMib }));
}

main().catch((e) => { console.error(e); process.exit(1); });
