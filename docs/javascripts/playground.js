// The Playground: draw a digit, and both trained models classify it in the page.
//
// The weights are the ones the retrain step exported from the trained Keras and
// PyTorch models (tools/playground_export.py), in PyTorch's layout and in 8
// bits: each row is whole numbers from -127 to 127 and one float32 scale. The
// page multiplies them back into float32 weights once, then runs the course's
// MLP written out: logits = W2 relu(W1 x + b1) + b2, then a softmax, summing in
// double precision. The export checks this same arithmetic, in NumPy, against
// the framework's answers on all 10,000 test images.
(() => {
  const root = document.getElementById("playground");
  if (!root) return;
  const base = root.dataset.weights; // folder of the exported weights
  const frameworks = ["keras", "pytorch"];
  const models = {};

  // Each export is a JSON description and the binary data it describes.
  async function fetchExport(name) {
    return Promise.all([
      fetch(`${base}/${name}.json`).then((response) => response.json()),
      fetch(`${base}/${name}.bin`).then((response) => response.arrayBuffer()),
    ]);
  }

  const arrayTypes = { float32: Float32Array, int8: Int8Array };

  // weight = q * scale for each row, rounded to float32 as the export assumes.
  function dequantise(q, scale) {
    const weight = new Float32Array(q.length);
    const columns = q.length / scale.length;
    for (let row = 0; row < scale.length; row++) {
      for (let i = row * columns; i < (row + 1) * columns; i++) weight[i] = q[i] * scale[row];
    }
    return weight;
  }

  async function loadModel(framework) {
    const [manifest, buffer] = await fetchExport(framework);
    const arrays = {};
    for (const { name, dtype, shape, offset } of manifest.arrays) {
      const size = shape.reduce((a, b) => a * b, 1);
      arrays[name] = new arrayTypes[dtype](buffer, offset, size);
    }
    return {
      w1: dequantise(arrays["hidden.weight"], arrays["hidden.scale"]),
      b1: arrays["hidden.bias"],
      w2: dequantise(arrays["output.weight"], arrays["output.scale"]),
      b2: arrays["output.bias"],
      hidden: arrays["hidden.scale"].length,
      manifest,
    };
  }

  // One image: 784 values in [0, 1], as in training.
  function predict(model, pixels) {
    const hidden = new Float64Array(model.hidden);
    for (let unit = 0; unit < model.hidden; unit++) {
      let sum = model.b1[unit];
      const row = unit * 784;
      for (let i = 0; i < 784; i++) sum += model.w1[row + i] * pixels[i];
      hidden[unit] = sum > 0 ? sum : 0;
    }
    const logits = new Float64Array(10);
    for (let digit = 0; digit < 10; digit++) {
      let sum = model.b2[digit];
      const row = digit * model.hidden;
      for (let unit = 0; unit < model.hidden; unit++) sum += model.w2[row + unit] * hidden[unit];
      logits[digit] = sum;
    }
    const largest = Math.max(...logits);
    const exps = logits.map((value) => Math.exp(value - largest));
    const total = exps.reduce((a, b) => a + b, 0);
    return Array.from(exps, (value) => value / total);
  }

  // Drawing --------------------------------------------------------------
  const canvas = root.querySelector("canvas.playground-draw");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const preview = root.querySelector("canvas.playground-input");
  const previewContext = preview.getContext("2d");
  let drawing = false;
  let last = null;

  function clearCanvas() {
    context.fillStyle = "#000";
    context.fillRect(0, 0, canvas.width, canvas.height);
  }

  function position(event) {
    const box = canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) * canvas.width) / box.width,
      y: ((event.clientY - box.top) * canvas.height) / box.height,
    };
  }

  function stroke(to) {
    context.strokeStyle = "#fff";
    context.lineWidth = canvas.width / 14;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.beginPath();
    context.moveTo(last.x, last.y);
    context.lineTo(to.x, to.y);
    context.stroke();
    last = to;
  }

  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    drawing = true;
    last = position(event);
    stroke(last);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (drawing) stroke(position(event));
  });
  for (const type of ["pointerup", "pointercancel"]) {
    canvas.addEventListener(type, () => {
      if (!drawing) return;
      drawing = false;
      update();
    });
  }

  // MNIST's preprocessing: the digit's bounding box scaled to fit 20 x 20
  // (aspect ratio kept), grey levels from the anti-aliasing, then placed in a
  // 28 x 28 field so that its centre of mass is at the centre.
  function toMnist() {
    const { width, height } = canvas;
    const data = context.getImageData(0, 0, width, height).data;
    let top = height, left = width, bottom = -1, right = -1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (data[(y * width + x) * 4] > 0) {
          top = Math.min(top, y);
          bottom = Math.max(bottom, y);
          left = Math.min(left, x);
          right = Math.max(right, x);
        }
      }
    }
    const pixels = new Float32Array(784);
    if (bottom < 0) return pixels; // nothing drawn
    const boxWidth = right - left + 1;
    const boxHeight = bottom - top + 1;
    const scale = 20 / Math.max(boxWidth, boxHeight);
    const fitted = document.createElement("canvas");
    fitted.width = fitted.height = 20;
    const fittedContext = fitted.getContext("2d", { willReadFrequently: true });
    fittedContext.imageSmoothingEnabled = true;
    fittedContext.imageSmoothingQuality = "high";
    const drawnWidth = boxWidth * scale;
    const drawnHeight = boxHeight * scale;
    fittedContext.drawImage(
      canvas, left, top, boxWidth, boxHeight,
      (20 - drawnWidth) / 2, (20 - drawnHeight) / 2, drawnWidth, drawnHeight,
    );
    const small = fittedContext.getImageData(0, 0, 20, 20).data;
    let mass = 0, centreX = 0, centreY = 0;
    for (let y = 0; y < 20; y++) {
      for (let x = 0; x < 20; x++) {
        const value = small[(y * 20 + x) * 4];
        mass += value;
        centreX += x * value;
        centreY += y * value;
      }
    }
    const shiftX = Math.round(14 - (mass ? centreX / mass : 10) - 0.5);
    const shiftY = Math.round(14 - (mass ? centreY / mass : 10) - 0.5);
    for (let y = 0; y < 20; y++) {
      for (let x = 0; x < 20; x++) {
        const targetX = x + shiftX;
        const targetY = y + shiftY;
        if (targetX >= 0 && targetX < 28 && targetY >= 0 && targetY < 28) {
          pixels[targetY * 28 + targetX] = small[(y * 20 + x) * 4] / 255;
        }
      }
    }
    return pixels;
  }

  // Output ---------------------------------------------------------------
  function showInput(pixels) {
    const image = previewContext.createImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      const value = Math.round(pixels[i] * 255);
      image.data.set([value, value, value, 255], i * 4);
    }
    previewContext.putImageData(image, 0, 0);
  }

  function showProbabilities(framework, probabilities) {
    const chart = root.querySelector(`[data-chart="${framework}"]`);
    const best = probabilities ? probabilities.indexOf(Math.max(...probabilities)) : -1;
    chart.querySelectorAll("li").forEach((item, digit) => {
      const share = probabilities ? probabilities[digit] : 0;
      item.querySelector(".playground-bar").style.width = `${(share * 100).toFixed(1)}%`;
      item.querySelector(".playground-value").textContent = probabilities
        ? `${(share * 100).toFixed(1)}%`
        : "–";
      item.classList.toggle("playground-best", digit === best);
    });
    const answer = root.querySelector(`[data-answer="${framework}"]`);
    answer.textContent = probabilities
      ? `${best} (${(probabilities[best] * 100).toFixed(1)}%)`
      : "draw a digit";
  }

  function classify(pixels) {
    const result = {};
    for (const framework of frameworks) result[framework] = predict(models[framework], pixels);
    return result;
  }

  function show(pixels) {
    showInput(pixels);
    if (!pixels.some((value) => value > 0)) {
      frameworks.forEach((framework) => showProbabilities(framework, null));
      return;
    }
    const result = classify(pixels);
    frameworks.forEach((framework) => showProbabilities(framework, result[framework]));
  }

  const caption = root.querySelector(".playground-sample-caption");

  // A drawing goes through MNIST's preprocessing first.
  function update() {
    caption.textContent = "";
    show(toMnist());
  }

  root.querySelector(".playground-clear").addEventListener("click", () => {
    clearCanvas();
    update();
  });

  // Test images -----------------------------------------------------------
  // MNIST's own digits, as the models saw them in the test: a way to try the
  // models without drawing, with the keyboard too.
  const sampleButton = root.querySelector(".playground-sample");
  let loadingSamples = null; // one download, however fast the clicks come
  let nextSample = 0;

  async function loadSamples() {
    const [info, buffer] = await fetchExport("test-images");
    return { labels: info.labels, bytes: new Uint8Array(buffer) };
  }

  sampleButton.addEventListener("click", async () => {
    loadingSamples = loadingSamples || loadSamples();
    const samples = await loadingSamples;
    const index = nextSample;
    nextSample = (nextSample + 1) % samples.labels.length;
    const bytes = samples.bytes.subarray(index * 784, (index + 1) * 784);
    const pixels = Float32Array.from(bytes, (value) => value / 255);
    // Enlarged onto the drawing area: drawing over it goes on from there.
    showInput(pixels);
    context.imageSmoothingEnabled = true;
    context.drawImage(preview, 0, 0, canvas.width, canvas.height);
    // The models get the test image itself, not a redrawn copy.
    show(pixels);
    caption.textContent =
      `Test image ${index + 1} of ${samples.labels.length}: ` +
      `labelled ${samples.labels[index]}.`;
  });

  clearCanvas();
  Promise.all(frameworks.map(loadModel)).then((loaded) => {
    frameworks.forEach((framework, index) => (models[framework] = loaded[index]));
    root.dataset.ready = "true";
    sampleButton.disabled = false;
    update();
  });

  // For the browser tests: classify 784 pixel values directly, and read the
  // 28 x 28 input the models last saw.
  window.playground = {
    ready: () => root.dataset.ready === "true",
    classify: (pixels) => classify(Float32Array.from(pixels)),
    input: () => Array.from(toMnist()),
  };
})();
