// Drawing one side of the playground: the model's decision regions as a heat map, the pool,
// the labelled points and the points the strategy would ask about next, with their scores.

export const CLASS_COLORS: [number, number, number][] = [
  [33, 113, 181],
  [222, 99, 44],
  [46, 160, 67],
  [148, 103, 189],
];

export interface View {
  /** Data-space bounds shown on the canvas. */
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** The grid points (cell centres, row-major from the top) the heat map is predicted on. */
export function gridPoints(view: View, cells: number): Float32Array {
  const out = new Float32Array(cells * cells * 2);
  for (let r = 0; r < cells; r++) {
    for (let c = 0; c < cells; c++) {
      const i = r * cells + c;
      out[2 * i] = view.x0 + ((c + 0.5) / cells) * (view.x1 - view.x0);
      out[2 * i + 1] = view.y1 - ((r + 0.5) / cells) * (view.y1 - view.y0);
    }
  }
  return out;
}

export interface SideState {
  /** Grid probabilities, `cells² × classes` row-major, or null before the first fit. */
  grid: Float32Array | null;
  labelled: Map<number, number>;
  queued: { index: number; score: number }[];
  /** The point the student selected to label (oracle mode). */
  selected: number | null;
}

export function toCanvas(view: View, canvas: HTMLCanvasElement, x: number, y: number): [number, number] {
  return [((x - view.x0) / (view.x1 - view.x0)) * canvas.width, ((view.y1 - y) / (view.y1 - view.y0)) * canvas.height];
}

export function drawSide(canvas: HTMLCanvasElement, view: View, cells: number, classes: number, xy: Float32Array, s: SideState): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const w = canvas.width, h = canvas.height;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  if (s.grid) {
    // Colour = the probability-weighted mix of class colours, faded to white as the model
    // gets less sure (max p near 1/classes).
    const img = new ImageData(cells, cells);
    for (let i = 0; i < cells * cells; i++) {
      let r = 0, g = 0, b = 0, top = 0;
      for (let k = 0; k < classes; k++) {
        const p = s.grid[i * classes + k];
        const [cr, cg, cb] = CLASS_COLORS[k % CLASS_COLORS.length];
        r += p * cr;
        g += p * cg;
        b += p * cb;
        top = Math.max(top, p);
      }
      const a = Math.max(0, Math.min(1, (top - 1 / classes) / (1 - 1 / classes))) * 0.75 + 0.1;
      img.data.set([255 + (r - 255) * a, 255 + (g - 255) * a, 255 + (b - 255) * a, 255], i * 4);
    }
    const small = new OffscreenCanvas(cells, cells);
    small.getContext('2d')!.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(small, 0, 0, w, h);
  }
  const n = xy.length / 2;
  // The pool: small grey dots.
  ctx.fillStyle = 'rgba(60,60,60,0.55)';
  for (let i = 0; i < n; i++) {
    if (s.labelled.has(i)) continue;
    const [cx, cy] = toCanvas(view, canvas, xy[2 * i], xy[2 * i + 1]);
    ctx.fillRect(cx - 1.5, cy - 1.5, 3, 3);
  }
  // Labelled points: filled with their class colour.
  for (const [i, label] of s.labelled) {
    const [cx, cy] = toCanvas(view, canvas, xy[2 * i], xy[2 * i + 1]);
    const [cr, cg, cb] = CLASS_COLORS[label % CLASS_COLORS.length];
    ctx.beginPath();
    ctx.arc(cx, cy, 4.5, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${cr},${cg},${cb})`;
    ctx.fill();
    ctx.strokeStyle = '#111';
    ctx.lineWidth = 1;
    ctx.stroke();
  }
  // The next questions: rings, with the score beside the first few.
  ctx.font = '10px system-ui, sans-serif';
  s.queued.forEach((q, rank) => {
    const [cx, cy] = toCanvas(view, canvas, xy[2 * q.index], xy[2 * q.index + 1]);
    ctx.beginPath();
    ctx.arc(cx, cy, q.index === s.selected ? 10 : 7, 0, 2 * Math.PI);
    ctx.strokeStyle = q.index === s.selected ? '#d00' : '#000';
    ctx.lineWidth = 2;
    ctx.stroke();
    if (rank < 5) {
      const label = q.score.toFixed(3);
      ctx.fillStyle = 'rgba(255,255,255,0.8)';
      ctx.fillRect(cx + 8, cy - 14, ctx.measureText(label).width + 4, 12);
      ctx.fillStyle = '#000';
      ctx.fillText(label, cx + 10, cy - 5);
    }
  });
}
