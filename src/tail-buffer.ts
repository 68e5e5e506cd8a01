/** The last lines of an output, within a byte and a line cap; counts all lines. */
export class TailBuffer<Line extends { text: string } = { text: string }> {
  private buffer: Line[] = [];
  private head = 0;
  private bytes = 0;
  total = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxLines: number,
  ) {}

  push(line: Line): void {
    this.total++;
    this.buffer.push(line);
    this.bytes += line.text.length;
    while (this.buffer.length - this.head > 1 && (this.bytes > this.maxBytes || this.buffer.length - this.head > this.maxLines)) {
      this.bytes -= this.buffer[this.head]!.text.length;
      this.buffer[this.head] = undefined as unknown as Line;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
  }

  lines(): Line[] {
    return this.buffer.slice(this.head);
  }
}
