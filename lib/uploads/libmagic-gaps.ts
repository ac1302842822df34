/**
 * Where libmagic reading a file's head (as the upload step does) says less than
 * `file --mime-type` reading the whole file. Each check runs only on the answer
 * it corrects, and can go when that answer goes.
 */

/**
 * file 5.45+ dropped the MIME type of TrueType/OpenType fonts (5.44, Debian 12's,
 * says font/sfnt; wasmagic's 5.48 says application/octet-stream). The sfnt header:
 * a version tag, then a table count.
 */
export function isSfntFont(head: Buffer) {
  if (head.length < 12) return false;
  const tag = head.readUInt32BE(0);
  const tables = head.readUInt16BE(4);
  return [0x00010000, 0x74727565 /* true */, 0x4f54544f /* OTTO */].includes(tag) && tables > 0 && tables < 256;
}

const JSON_TOKEN =
  /\s*(?:([{}[\]:,])|("(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*")|(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)|(true|false|null))/y;

/**
 * libmagic calls a JSON document JSON only when it has read all of it; from a
 * head it sees text. This accepts a head that is a valid start of a JSON object
 * or array, cut anywhere (the last token may be incomplete).
 */
export function isTruncatedJson(head: Buffer) {
  const text = head.toString("utf8");
  if (!/^\s*[[{]/.test(text)) return false;
  const stack: string[] = [];
  // What may come next: a value, an object key, a colon, or a comma/closer.
  let expecting: "value" | "key" | "colon" | "next" = "value";
  let position = 0;
  JSON_TOKEN.lastIndex = 0;
  for (;;) {
    const match = JSON_TOKEN.exec(text);
    if (!match) return /^\s*$/.test(text.slice(position)) || isCutToken(text.slice(position));
    position = JSON_TOKEN.lastIndex;
    const [, punctuation, string, number, literal] = match;
    if (string !== undefined && expecting === "key") expecting = "colon";
    else if ((string ?? number ?? literal) !== undefined && expecting === "value") expecting = "next";
    else if (punctuation === "{" || punctuation === "[") {
      if (expecting !== "value") return false;
      stack.push(punctuation);
      expecting = punctuation === "{" ? "key" : "value";
    } else if (punctuation === "}" || punctuation === "]") {
      if (stack.pop() !== (punctuation === "}" ? "{" : "[")) return false;
      if (stack.length === 0) return false; // a whole document: libmagic has judged it already
      expecting = "next";
    } else if (punctuation === ":" && expecting === "colon") expecting = "value";
    else if (punctuation === "," && expecting === "next") expecting = stack.at(-1) === "{" ? "key" : "value";
    else return false;
  }
}

/** The start of a string, number or literal that the head cut. */
const isCutToken = (rest: string) =>
  /^\s*"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{0,4})?)*$/.test(rest) ||
  /^\s*-?\d*(?:\.\d*)?(?:[eE][+-]?\d*)?$/.test(rest) ||
  /^\s*(t(r(ue?)?)?|f(a(l(se?)?)?)?|n(u(ll?)?)?)$/.test(rest);
