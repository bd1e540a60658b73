/** Deeper JSON is refused before parsing: nothing legitimate nests further (tensors ≤ 64 dims). */
export const MAX_JSON_DEPTH = 72;

/**
 * Deepest nesting of arrays/objects in a JSON text, found in one pass without parsing (strings
 * skipped), so a hostile body cannot exhaust the parser's stack.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > deepest) deepest = depth;
      if (deepest > MAX_JSON_DEPTH) return deepest;
    } else if (c === 93 /* ] */ || c === 125 /* } */) {
      depth--;
    }
  }
  return deepest;
}
