// The editor set-ups in editors/: the generated TextMate grammar (VS Code) and Vim
// syntax file are current and colour every example's words as the lexer reads them
// (the Vim one checked in Debian's Neovim itself), and the VS Code extension starts
// `mptcp-policy lsp` with the language's comment and word rules.
// UPDATE_EDITORS=1 rewrites the generated files.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tokenize } from "../language/lexer.js";
import { textMateGrammar, vimSyntax, WORD_CLASSES, WORD_PATTERN } from "../language/service/index.js";
import { sourceFile } from "../language/source.js";
import { ROOT } from "./helpers.js";

const GRAMMAR = join(ROOT, "editors/vscode/syntaxes/mptcp-policy.tmLanguage.json");
const VIM_SYNTAX = join(ROOT, "editors/vim/syntax/mptcp-policy.vim");
const UPDATE = process.env["UPDATE_EDITORS"] === "1";

const EXAMPLES = readdirSync(join(ROOT, "examples"), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .flatMap((e) =>
    readdirSync(join(ROOT, "examples", e.name))
      .filter((f) => f.endsWith(".policy"))
      .map((f) => join(ROOT, "examples", e.name, f)),
  );

/** What each lexer token of a text is, as a highlighting class. */
function lexerClasses(text: string): { offset: number; length: number; cls: string }[] {
  const lexed = tokenize(sourceFile("x.policy", text));
  const words = (list: readonly string[], word: string) => list.includes(word);
  const out = lexed.tokens.map((t) => {
    const name = t.tokenType.name;
    let cls = "other";
    if (name.startsWith("kw_")) cls = "keyword";
    else if (name === "Identifier")
      cls = words(WORD_CLASSES.events, t.image)
        ? "event"
        : words(WORD_CLASSES.metrics, t.image)
          ? "metric"
          : words(WORD_CLASSES.constants, t.image)
            ? "constant"
            : "name";
    else if (name === "Number") cls = "number";
    else if (name === "Address4" || name === "Address6") cls = "address";
    else if (name.endsWith("String")) cls = "string";
    return { offset: t.startOffset, length: t.image.length, cls };
  });
  for (const c of lexed.comments) out.push({ offset: c.span.start, length: c.span.end - c.span.start, cls: "comment" });
  return out.filter((t) => t.cls !== "other").sort((a, b) => a.offset - b.offset);
}

const CLASS_OF_SCOPE: [RegExp, string][] = [
  [/^comment\./, "comment"],
  [/^string\./, "string"],
  [/^constant\.numeric\.address/, "address"],
  [/^constant\.numeric/, "number"],
  [/^keyword\.control/, "keyword"],
  [/^entity\.name\.type\.event/, "event"],
  [/^variable\.other\.property\.metric/, "metric"],
  [/^constant\.language/, "constant"],
];

/** A TextMate engine reduced to what the grammar uses: per line, the earliest match wins, ties by order; `begin`/`end` regions. */
function textMateClasses(
  text: string,
  grammar: { patterns: { name: string; match?: string; begin?: string; end?: string }[] },
): Map<number, { length: number; cls: string }> {
  const found = new Map<number, { length: number; cls: string }>();
  let lineStart = 0;
  for (const line of text.split("\n")) {
    let pos = 0;
    while (pos < line.length) {
      let best: { start: number; length: number; name: string } | undefined;
      for (const p of grammar.patterns) {
        const re = new RegExp(p.match ?? p.begin ?? "", "gm");
        re.lastIndex = pos;
        const m = re.exec(line);
        if (!m || m[0].length === 0) continue;
        let length = m[0].length;
        if (p.begin !== undefined && p.end !== undefined) {
          const end = new RegExp(p.end, "gm");
          end.lastIndex = m.index + length;
          // Escapes inside are skipped, as the grammar's inner patterns do.
          let e: RegExpExecArray | null;
          while ((e = end.exec(line)) !== null && line[e.index - 1] === "\\" && e[0] !== "") end.lastIndex = e.index + 1;
          length = (e ? e.index + e[0].length : line.length) - m.index;
        }
        if (best === undefined || m.index < best.start) best = { start: m.index, length, name: p.name };
      }
      if (!best) break;
      const cls = CLASS_OF_SCOPE.find(([re]) => re.test(best.name))?.[1] ?? "other";
      found.set(lineStart + best.start, { length: best.length, cls });
      pos = best.start + best.length;
    }
    lineStart += line.length + 1;
  }
  return found;
}

describe("generated editor files", () => {
  it("the TextMate grammar and the Vim syntax file are the vocabulary's current ones", () => {
    const grammar = `${JSON.stringify(textMateGrammar(), null, 2)}\n`;
    const vim = vimSyntax();
    if (UPDATE) {
      writeFileSync(GRAMMAR, grammar);
      writeFileSync(VIM_SYNTAX, vim);
    }
    expect(readFileSync(GRAMMAR, "utf8"), "run UPDATE_EDITORS=1 npx vitest run test/lsp-editors.test.ts").toBe(grammar);
    expect(readFileSync(VIM_SYNTAX, "utf8"), "run UPDATE_EDITORS=1 npx vitest run test/lsp-editors.test.ts").toBe(vim);
  });

  it("the TextMate grammar colours every word of the examples as the lexer reads it", () => {
    const grammar = textMateGrammar() as { patterns: { name: string; match?: string; begin?: string; end?: string }[] };
    for (const path of EXAMPLES) {
      const text = readFileSync(path, "utf8");
      const scopes = textMateClasses(text, grammar);
      for (const token of lexerClasses(text)) {
        const scope = scopes.get(token.offset);
        const want = token.cls === "name" ? undefined : { length: token.length, cls: token.cls };
        expect(
          scope && scope.cls !== "other" ? scope : undefined,
          `${path} at ${token.offset}: ${text.slice(token.offset, token.offset + token.length)}`,
        ).toEqual(want);
      }
    }
  });

  const nvim = spawnSync("nvim", ["--version"]).status === 0;
  it.skipIf(!nvim)("the Vim syntax file colours them so too, in Neovim", () => {
    const dir = mkdtempSync(join(tmpdir(), "mptcp-policy-syntax-"));
    try {
      const out = join(dir, "groups.json");
      const files = EXAMPLES.slice(0, 3);
      const lua = `
local out = {}
for _, path in ipairs(vim.fn.json_decode(os.getenv("FILES"))) do
  vim.cmd("edit " .. path)
  vim.cmd("set filetype=mptcp-policy")
  local groups = {}
  for l = 1, vim.fn.line("$") do
    local row = {}
    local text = vim.fn.getline(l)
    for c = 1, #text do
      row[c] = vim.fn.synIDattr(vim.fn.synID(l, c, 1), "name")
    end
    groups[l] = row
  end
  out[path] = groups
end
local f = io.open(os.getenv("OUT"), "w")
f:write(vim.fn.json_encode(out))
f:close()
vim.cmd("qall!")`;
      writeFileSync(join(dir, "groups.lua"), lua);
      const run = spawnSync(
        "nvim",
        [
          "--headless",
          "-u",
          "NONE",
          "-i",
          "NONE",
          "-n",
          "--cmd",
          `set runtimepath^=${join(ROOT, "editors/vim")}`,
          "--cmd",
          "syntax on",
          "-c",
          `luafile ${join(dir, "groups.lua")}`,
        ],
        {
          encoding: "utf8",
          timeout: 60_000,
          env: { ...process.env, FILES: JSON.stringify(files), OUT: out, HOME: dir, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir, XDG_STATE_HOME: dir },
        },
      );
      expect(existsSync(out), run.stderr).toBe(true);
      const groups = JSON.parse(readFileSync(out, "utf8")) as Record<string, string[][]>;
      const GROUP: Record<string, string> = {
        keyword: "mptcpPolicyKeyword",
        event: "mptcpPolicyEvent",
        metric: "mptcpPolicyMetric",
        constant: "mptcpPolicyConstant",
        number: "mptcpPolicyNumber",
        address: "mptcpPolicyAddress",
        string: "mptcpPolicyString",
        comment: "mptcpPolicyComment",
        name: "",
      };
      for (const path of files) {
        const text = readFileSync(path, "utf8");
        const starts = sourceFile(path, text).lineStarts();
        for (const token of lexerClasses(text)) {
          let line = 0;
          while (line + 1 < starts.length && (starts[line + 1] as number) <= token.offset) line++;
          const column = token.offset - (starts[line] as number);
          const got = groups[path]?.[line]?.[column] ?? "";
          expect(got, `${path}:${line + 1}:${column + 1} ${text.slice(token.offset, token.offset + token.length)}`).toBe(GROUP[token.cls]);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("filetype detection, ftplugin and syntax in Vim and Neovim", () => {
  for (const program of ["vim", "nvim"]) {
    const present = spawnSync(program, ["--version"]).status === 0;
    it.skipIf(!present)(`${program}: /etc/mptcp-policy/*.policy, and *.policy files that read like a policy, not polkit's XML`, () => {
      const dir = mkdtempSync(join(tmpdir(), "mptcp-policy-ft-"));
      try {
        writeFileSync(join(dir, "rules.policy"), '# mine\ninterface wifi = "wlan0"\n');
        writeFileSync(join(dir, "org.example.policy"), '<?xml version="1.0"?>\n<policyconfig>\n  on x\n</policyconfig>\n');
        const detect = (path: string) => {
          const out = join(dir, "ft.txt");
          spawnSync(
            program,
            [
              "-Nu",
              "NONE",
              "-i",
              "NONE",
              "-n",
              "-es",
              "--cmd",
              `set rtp^=${join(ROOT, "editors/vim")}`,
              "--cmd",
              "filetype plugin on",
              "--cmd",
              "syntax on",
              "-c",
              `redir! > ${out}`,
              "-c",
              "echo &filetype . '|' . &commentstring . '|' . get(b:, 'current_syntax', '')",
              "-c",
              "redir END",
              "-c",
              "qa!",
              path,
            ],
            { encoding: "utf8", timeout: 30_000, env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir, XDG_STATE_HOME: dir } },
          );
          return readFileSync(out, "utf8").trim();
        };
        // A new file there (nothing is written: the editor quits without saving).
        expect(detect("/etc/mptcp-policy/00-new.policy")).toBe("mptcp-policy|# %s|mptcp-policy");
        expect(detect(join(dir, "rules.policy"))).toBe("mptcp-policy|# %s|mptcp-policy");
        expect(detect(join(dir, "org.example.policy"))).not.toMatch(/^mptcp-policy/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe("the VS Code extension folder", () => {
  const folder = join(ROOT, "editors/vscode");
  const manifest = JSON.parse(readFileSync(join(folder, "package.json"), "utf8")) as {
    main: string;
    contributes: {
      languages: { id: string; extensions: string[]; filenamePatterns: string[]; configuration: string }[];
      grammars: { language: string; scopeName: string; path: string }[];
    };
    dependencies: Record<string, string>;
  };

  it("contributes the language, its configuration and the grammar, all present", () => {
    const [language] = manifest.contributes.languages;
    expect(language).toMatchObject({ id: "mptcp-policy", extensions: [".policy"], filenamePatterns: ["/etc/mptcp-policy/*.policy"] });
    expect(existsSync(join(folder, language?.configuration ?? ""))).toBe(true);
    expect(manifest.contributes.grammars).toEqual([
      { language: "mptcp-policy", scopeName: "source.mptcp-policy", path: "./syntaxes/mptcp-policy.tmLanguage.json" },
    ]);
    expect(existsSync(join(folder, manifest.contributes.grammars[0]?.path ?? ""))).toBe(true);
    expect(manifest.dependencies).toHaveProperty("vscode-languageclient");
  });

  it("uses the language's comment and word rules", () => {
    const configuration = JSON.parse(readFileSync(join(folder, "language-configuration.json"), "utf8")) as {
      comments: { lineComment: string };
      wordPattern: string;
    };
    expect(configuration.comments.lineComment).toBe("#");
    expect(configuration.wordPattern).toBe(WORD_PATTERN.source);
  });

  it("starts mptcp-policy lsp on stdio for files and unsaved documents of the language", () => {
    const extension = createRequire(import.meta.url)(join(folder, manifest.main)) as {
      serverOptions(command?: string[]): { command: string; args: string[] };
      clientOptions(): { documentSelector: { scheme: string; language: string }[] };
    };
    expect(extension.serverOptions()).toMatchObject({ command: "mptcp-policy", args: ["lsp"] });
    expect(extension.serverOptions(["/usr/local/bin/mptcp-policy", "lsp"])).toMatchObject({ command: "/usr/local/bin/mptcp-policy", args: ["lsp"] });
    expect(extension.clientOptions().documentSelector).toEqual([
      { scheme: "file", language: "mptcp-policy" },
      { scheme: "untitled", language: "mptcp-policy" },
    ]);
  });
});
