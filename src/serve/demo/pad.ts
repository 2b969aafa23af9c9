// The demo page's drawing pad: light strokes on black (MNIST's polarity) drawn with pointer events, so mouse,
// pen and finger all draw; each finished stroke is reported. It can also show an uploaded image.

/** Stroke width in pad pixels: about MNIST's stroke once a digit is scaled to 20 of 28 pixels. */
const STROKE = 22;

export class Pad {
  private readonly ctx: CanvasRenderingContext2D;
  private drawing: number | null = null; // the pointer id drawing now
  private last: { x: number; y: number } | null = null;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly onStroke: () => void,
  ) {
    this.ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    this.clear();
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    for (const end of ['pointerup', 'pointercancel'] as const)
      canvas.addEventListener(end, (e) => this.up(e));
  }

  clear(): void {
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** The pad's ink in [0, 1] per pixel (its red channel: strokes are white). */
  ink(): Float32Array {
    const { width, height } = this.canvas;
    const rgba = this.ctx.getImageData(0, 0, width, height).data;
    const out = new Float32Array(width * height);
    for (let i = 0; i < out.length; i++) out[i] = rgba[4 * i] / 255;
    return out;
  }

  /** Shows an image fitted into the pad (display only: uploads are converted from their own bytes). */
  show(image: CanvasImageSource & { width: number; height: number }): void {
    this.clear();
    const { width, height } = this.canvas;
    const s = Math.min(width / image.width, height / image.height);
    const w = image.width * s,
      h = image.height * s;
    this.ctx.drawImage(image, (width - w) / 2, (height - h) / 2, w, h);
  }

  /** Pointer position in canvas pixels (the canvas may be displayed at another size). */
  private at(e: PointerEvent) {
    const r = this.canvas.getBoundingClientRect();
    return {
      x: ((e.clientX - r.left) * this.canvas.width) / r.width,
      y: ((e.clientY - r.top) * this.canvas.height) / r.height,
    };
  }

  private down(e: PointerEvent): void {
    if (this.drawing !== null || e.button > 0) return;
    e.preventDefault();
    this.drawing = e.pointerId;
    this.canvas.setPointerCapture(e.pointerId);
    this.last = this.at(e);
    this.segment(this.last, this.last);
  }

  private move(e: PointerEvent): void {
    if (e.pointerId !== this.drawing || !this.last) return;
    // Coalesced events keep fast strokes smooth where the browser batches them.
    for (const ev of e.getCoalescedEvents?.() ?? [e]) {
      const p = this.at(ev);
      this.segment(this.last, p);
      this.last = p;
    }
  }

  private up(e: PointerEvent): void {
    if (e.pointerId !== this.drawing) return;
    this.drawing = null;
    this.last = null;
    this.onStroke();
  }

  private segment(a: { x: number; y: number }, b: { x: number; y: number }): void {
    const c = this.ctx;
    c.strokeStyle = '#fff';
    c.lineWidth = STROKE;
    c.lineCap = 'round';
    c.lineJoin = 'round';
    c.beginPath();
    c.moveTo(a.x, a.y);
    c.lineTo(b.x, b.y);
    c.stroke();
  }
}
