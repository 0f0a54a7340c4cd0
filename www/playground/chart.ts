// A small learning-curve chart on a canvas: accuracy on the held-out points against the
// number of labels, one line per series. Small enough that a chart library is not worth a
// dependency here.

export interface Series {
  name: string;
  color: string;
  /** [labels, accuracy] pairs, labels increasing. */
  points: [number, number][];
}

export function drawChart(canvas: HTMLCanvasElement, series: Series[], budget: number): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const w = canvas.width, h = canvas.height;
  const pad = { l: 44, r: 12, t: 12, b: 30 };
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  const maxX = Math.max(budget, ...series.flatMap((s) => s.points.map((p) => p[0])));
  const px = (x: number) => pad.l + (x / maxX) * (w - pad.l - pad.r);
  const py = (y: number) => h - pad.b - y * (h - pad.t - pad.b);
  ctx.strokeStyle = '#ddd';
  ctx.fillStyle = '#555';
  ctx.font = '11px system-ui, sans-serif';
  ctx.lineWidth = 1;
  for (let y = 0; y <= 1.0001; y += 0.25) {
    ctx.beginPath();
    ctx.moveTo(pad.l, py(y));
    ctx.lineTo(w - pad.r, py(y));
    ctx.stroke();
    ctx.fillText(`${Math.round(y * 100)}%`, 6, py(y) + 4);
  }
  ctx.fillText('labels', w - pad.r - 34, h - 8);
  ctx.fillText('0', pad.l - 3, h - pad.b + 14);
  ctx.fillText(String(maxX), w - pad.r - 20, h - pad.b + 14);
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    s.points.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(px(x), py(y)) : ctx.lineTo(px(x), py(y))));
    ctx.stroke();
  }
  // Legend, top-left inside the plot.
  series.forEach((s, i) => {
    ctx.fillStyle = s.color;
    ctx.fillRect(pad.l + 8, pad.t + 6 + i * 16, 14, 3);
    ctx.fillStyle = '#222';
    const last = s.points.at(-1);
    ctx.fillText(`${s.name}${last ? ` — ${(last[1] * 100).toFixed(1)}% at ${last[0]} labels` : ''}`, pad.l + 28, pad.t + 10 + i * 16);
  });
}
