// Small DOM helpers. Everything a person supplied (class names, file names, project
// names) goes in as text (textContent, text nodes), never as HTML.

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** An element with text content and attributes; children appended as nodes or text. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

export function showAlert(message: string, offerExport = false): void {
  $('alert-text').textContent = message;
  $('alert-export').hidden = !offerExport;
  $('alert').hidden = false;
}

export function hideAlert(): void {
  $('alert').hidden = true;
}

export function showNotice(message: string): void {
  const n = $('notice');
  n.textContent = message;
  n.hidden = false;
}

/**
 * Ask for a line of text in the page's own dialog (not the browser's prompt, which looks
 * foreign, blocks the page and cannot be styled or tested): the text, or null if cancelled.
 */
export function askText(label: string, value: string): Promise<string | null> {
  const dialog = $('ask') as HTMLDialogElement;
  const input = $('ask-input') as HTMLInputElement;
  $('ask-label').textContent = label;
  input.value = value;
  return new Promise((resolve) => {
    let answer: string | null = null;
    const form = $('ask-form') as HTMLFormElement;
    const submit = (ev: SubmitEvent) => {
      ev.preventDefault();
      answer = input.value.trim() || null;
      dialog.close();
    };
    const cancel = () => dialog.close();
    form.addEventListener('submit', submit);
    $('ask-cancel').addEventListener('click', cancel);
    dialog.addEventListener(
      'close',
      () => {
        form.removeEventListener('submit', submit);
        $('ask-cancel').removeEventListener('click', cancel);
        resolve(answer);
      },
      { once: true },
    );
    dialog.showModal();
    input.select();
  });
}

export function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function formatBytes(n: number): string {
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

/** Draw grey or RGB bytes on a canvas at their own size (CSS scales it, pixelated). */
export function drawPixels(canvas: HTMLCanvasElement, pixels: Uint8Array, w: number, h: number, channels: number): void {
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(w, h);
  const d = img.data;
  for (let i = 0, n = w * h; i < n; i++) {
    const o = i * 4;
    if (channels === 3) {
      d[o] = pixels[i * 3];
      d[o + 1] = pixels[i * 3 + 1];
      d[o + 2] = pixels[i * 3 + 2];
    } else {
      d[o] = d[o + 1] = d[o + 2] = pixels[i];
    }
    d[o + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** The class the model finds most likely, and how sure it is. */
export function bestGuess(p: number[] | null): { index: number; confidence: number } | null {
  if (!p) return null;
  let best = 0;
  p.forEach((v, j) => {
    if (v > p[best]) best = j;
  });
  return { index: best, confidence: p[best] };
}

/** A drop zone: highlighted while something is dragged over it; `onDrop` gets what was dropped. */
export function wireDropZone(zone: HTMLElement, onDrop: (data: DataTransfer) => void): void {
  zone.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (ev) => {
    ev.preventDefault();
    zone.classList.remove('over');
    if (ev.dataTransfer) onDrop(ev.dataTransfer);
  });
}

/**
 * The import's stop button (#import-cancel) labelled `label`: a click disables it and aborts
 * the returned controller with "stopped by you". Showing and hiding it is the caller's.
 */
export function stopButton(label: string): AbortController {
  const cancel = $('import-cancel') as HTMLButtonElement;
  const stop = new AbortController();
  cancel.textContent = label;
  cancel.onclick = () => {
    cancel.disabled = true;
    stop.abort(new DOMException('stopped by you', 'AbortError'));
  };
  return stop;
}
