import { describe, expect, it } from "vitest";
import { csvRow } from "./csv";

describe("csvRow", () => {
  it("quotes commas, quotes and line breaks", () => {
    expect(csvRow(["a,b", 'say "hi"', "two\nlines", 3])).toBe('"a,b","say ""hi""","two\nlines",3');
  });

  it("neutralises spreadsheet formulas", () => {
    expect(csvRow(["=HYPERLINK(1)", "+1", "-1", "@x", "plain@example.test"])).toBe("'=HYPERLINK(1),'+1,'-1,'@x,plain@example.test");
  });
});
