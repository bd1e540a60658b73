/**
 * The ArrayBuffer a typed array fills exactly: one that can be viewed as another element type
 * or moved to another thread without taking anything else along. Undefined for anything else
 * (a view into a larger buffer, such as a pooled Buffer or a slice of a request body, shared
 * memory, string data).
 */
export function wholeBuffer(data: unknown): ArrayBuffer | undefined {
  if (!ArrayBuffer.isView(data) || !(data.buffer instanceof ArrayBuffer)) return undefined;
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data.buffer : undefined;
}
