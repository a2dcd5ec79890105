// JSON parsing with the position of a syntax error (line, column), which
// WebKit's JSON.parse does not report. Shared by the workbench and the playground.

/** Offset of the first JSON syntax error in `s`, or null (a small strict scanner). */
export function jsonErrorOffset(s) {
  let i = 0;
  const num = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const fail = () => {
    throw i;
  };
  const ws = () => {
    while (i < s.length && (s[i] === " " || s[i] === "\t" || s[i] === "\n" || s[i] === "\r")) i++;
  };
  const string = () => {
    i++;
    while (i < s.length) {
      const c = s[i];
      if (c === '"') {
        i++;
        return;
      }
      if (c === "\\") {
        const e = s[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
            i += 1;
            fail();
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else {
          i += 1;
          fail();
        }
      } else if (c < " ") fail();
      else i++;
    }
    fail();
  };
  const value = () => {
    ws();
    const c = s[i];
    if (c === "{") {
      i++;
      ws();
      if (s[i] === "}") return void i++;
      for (;;) {
        ws();
        if (s[i] !== '"') fail();
        string();
        ws();
        if (s[i] !== ":") fail();
        i++;
        value();
        ws();
        if (s[i] === ",") i++;
        else if (s[i] === "}") return void i++;
        else fail();
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (s[i] === "]") return void i++;
      for (;;) {
        value();
        ws();
        if (s[i] === ",") i++;
        else if (s[i] === "]") return void i++;
        else fail();
      }
    }
    if (c === '"') return string();
    if (c === "-" || (c >= "0" && c <= "9")) {
      num.lastIndex = i;
      const m = num.exec(s);
      if (!m) fail();
      i += m[0].length;
      return;
    }
    for (const w of ["true", "false", "null"]) if (s.startsWith(w, i)) return void (i += w.length);
    fail();
  };
  try {
    value();
    ws();
    if (i < s.length) fail();
    return null;
  } catch (p) {
    return typeof p === "number" ? Math.min(p, s.length) : null; // RangeError: too deep to tell
  }
}

/** Parses JSON; on a syntax error returns { error, offset, line, col }. */
export function parseJson(text) {
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    const msg = String(e?.message || e);
    // V8 says "at position N"; JavaScriptCore (WebKit) gives no position: find it ourselves.
    const m = /position (\d+)/i.exec(msg);
    const offset = m ? Number(m[1]) : jsonErrorOffset(text);
    const out = { error: msg.replace(/\s*in JSON at position \d+.*$/i, "").replace(/^JSON\.parse: /, "") };
    if (offset != null) {
      const before = text.slice(0, offset);
      out.offset = offset;
      out.line = before.split("\n").length;
      out.col = offset - before.lastIndexOf("\n");
    }
    return out;
  }
}
