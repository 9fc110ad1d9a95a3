// Runs an `resnet export --int8` file (QuantizeLinear/DequantizeLinear) in ONNX Runtime (onnxruntime-node,
// CPU, all graph optimisations) over an IDX image file (Fashion-MNIST's t10k-images-idx3-ubyte.gz) and
// compares each image's top-1 with resnet.cpp's int8 engine (`resnet predict --engine int8 --index ...
// --json`). The preprocessing is the file's own metadata (mean and std: pixel / 255, then (x - mean) / std).
//   node ort_int8_fashion.js MODEL.onnx IMAGES.gz PREDICT.json [LABELS.gz]
// Prints one JSON line: {"images", "agree", "agreement", "ort_optimization", "ort_top1", "engine_top1"}
// (per cent). ORT_OPT=disabled|basic|extended|all (default all) picks ORT's graph optimisation level.
const fs = require("fs");
const zlib = require("zlib");
const ort = require("onnxruntime-node");

// The ModelProto's metadata_props (field 14: key = 1, value = 2), read with a minimal protobuf walker.
function metadata(bytes) {
  let pos = 0;
  const varint = (b) => {
    let v = 0, scale = 1, byte;
    do {
      byte = b[pos++];
      v += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80);
    return v;
  };
  const fields = (b, end, visit) => {
    while (pos < end) {
      const key = varint(b), field = Math.floor(key / 8), wire = key % 8;
      if (wire === 0) varint(b);
      else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else if (wire === 2) {
        const length = varint(b), start = pos;
        visit(field, start, start + length);
        pos = start + length;
      } else throw new Error("unexpected protobuf wire type " + wire);
    }
  };
  const props = {};
  fields(bytes, bytes.length, (field, start, end) => {
    if (field !== 14) return;
    const entry = {};
    pos = start;
    fields(bytes, end, (f, s, e) => { entry[f] = bytes.subarray(s, e).toString("utf8"); });
    props[entry[1]] = entry[2];
  });
  return props;
}

function idx(path) {
  const b = zlib.gunzipSync(fs.readFileSync(path));
  const dims = b[3], shape = [];
  for (let i = 0; i < dims; ++i) shape.push(b.readUInt32BE(4 + 4 * i));
  return { shape, data: b.subarray(4 + 4 * dims) };
}

function argmax(a, offset, n) {
  let best = 0;
  for (let k = 1; k < n; ++k) if (a[offset + k] > a[offset + best]) best = k;
  return best;
}

async function main() {
  const [model, imagesPath, predictPath, labelsPath] = process.argv.slice(2);
  const meta = metadata(fs.readFileSync(model));
  if (meta["resnet.cpp.precision"] !== "int8") throw new Error(model + " is not an int8 export");
  const mean = JSON.parse(meta.mean), std = JSON.parse(meta.std);
  const images = idx(imagesPath);
  const [count, h, w] = images.shape;
  const predictions = JSON.parse(fs.readFileSync(predictPath, "utf8")).predictions;
  const engine = new Map();  // test image index → the engine's top-1
  for (const p of predictions) engine.set(Number(/(\d+)$/.exec(p.input)[1]), p.top[0].index);
  const labels = labelsPath ? idx(labelsPath).data : null;
  // ORT_OPT=disabled runs the graph as written (no Q/DQ fusion into int8 kernels).
  const level = process.env.ORT_OPT || "all";
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 2, graphOptimizationLevel: level });
  const batch = 500, m = Math.fround(mean[0]), s = Math.fround(std[0]);
  let images_compared = 0, agree = 0, ortCorrect = 0, engineCorrect = 0;
  for (let first = 0; first < count; first += batch) {
    const n = Math.min(batch, count - first);
    const x = new Float32Array(n * h * w);
    for (let i = 0; i < x.length; ++i)
      x[i] = Math.fround(Math.fround(Math.fround(images.data[first * h * w + i] / 255) - m) / s);
    const logits = (await session.run({ input: new ort.Tensor("float32", x, [n, 1, h, w]) })).logits;
    const classes = logits.dims[1];
    for (let i = 0; i < n; ++i) {
      const index = first + i;
      if (!engine.has(index)) continue;
      const top = argmax(logits.data, i * classes, classes);
      ++images_compared;
      agree += top === engine.get(index);
      if (labels) {
        ortCorrect += top === labels[index];
        engineCorrect += engine.get(index) === labels[index];
      }
    }
  }
  const pct = (v) => Number(((100 * v) / images_compared).toFixed(2));
  console.log(JSON.stringify({ images: images_compared, agree, agreement: pct(agree), ort_optimization: level,
                               ort_top1: labels ? pct(ortCorrect) : null,
                               engine_top1: labels ? pct(engineCorrect) : null }));
}

main().catch((e) => { console.error(e); process.exit(1); });
