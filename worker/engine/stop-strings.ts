// Finds the first stop string in a turn's decoded text as tokens arrive. Stop strings are matched on
// text, not tokens, because a tag like "</search>" can be split into tokens in many ways. Decoding the
// whole turn after every token would cost O(n^2); since the check runs after every token, a new match
// must end in the newest token, so decoding a short tail window is enough. The window spans enough
// tokens to hold the longest stop string plus slack (a window starting inside a multi-byte character
// decodes to a replacement character at its start, which cannot create a false match).

export class StopStringDetector {
  private readonly maxStopBytes: number;

  constructor(
    private readonly stopStrings: string[],
    private readonly detokenize: (tokens: number[]) => string,
  ) {
    this.maxStopBytes = Math.max(0, ...stopStrings.map((s) => Buffer.byteLength(s, "utf8")));
  }

  /** The stop string completed by the last of `tokens` (the turn so far), or null. */
  check(tokens: number[]): string | null {
    if (this.stopStrings.length === 0 || tokens.length === 0) return null;
    let size = this.maxStopBytes + 4;
    for (;;) {
      const window = tokens.slice(-size);
      const text = this.detokenize(window);
      // Tokens that decode to nothing (control tokens) can make the window too short: widen it.
      if (Buffer.byteLength(text, "utf8") < this.maxStopBytes + 4 && window.length < tokens.length) {
        size *= 2;
        continue;
      }
      let best: { at: number; stop: string } | null = null;
      for (const stop of this.stopStrings) {
        if (stop === "") continue;
        const at = text.indexOf(stop);
        if (at >= 0 && (best === null || at < best.at)) best = { at, stop };
      }
      return best?.stop ?? null;
    }
  }
}
