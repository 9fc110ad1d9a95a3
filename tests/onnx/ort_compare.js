// Runs ONNX files in ONNX Runtime (onnxruntime-node, CPU) and compares the logits with resnet.cpp's.
//   node ort_compare.js MANIFEST.json
// MANIFEST: [{"onnx": path, "input": raw f32 file, "shape": [N, C, H, W], "expected": raw f32 file}, …]
// Prints one JSON line per case: {"onnx", "batch", "max_abs_diff", "max_abs_expected", "shape"}.
const fs = require("fs");
const ort = require("onnxruntime-node");

function floats(path) {
  const b = fs.readFileSync(path);
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
}

async function main() {
  const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  for (const c of cases) {
    const session = await ort.InferenceSession.create(c.onnx, { intraOpNumThreads: 1, graphOptimizationLevel: "all" });
    const feeds = { input: new ort.Tensor("float32", floats(c.input), c.shape) };
    const out = (await session.run(feeds)).logits;
    const expected = floats(c.expected);
    let diff = Infinity, mag = 0;
    if (out.data.length === expected.length) {
      diff = 0;
      for (let i = 0; i < expected.length; ++i) {
        const d = Math.abs(out.data[i] - expected[i]);
        diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
        mag = Math.max(mag, Math.abs(expected[i]));
      }
    }
    console.log(JSON.stringify({ onnx: c.onnx, batch: c.shape[0], max_abs_diff: diff, max_abs_expected: mag,
                                 shape: out.dims }));
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
