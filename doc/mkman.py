#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Makes the man pages portcullis(8) and pcctl(8) from one source,
doc/manpages.md, at build time.

The command reference is not written in the source: it comes from the
binary's own command tables, through `portcullis --help` (printed before
EAL starts, so it runs anywhere the build does), so a page cannot lack a
command the code has. The source gives each command its description
(`@@ WORDS`); a command without one, or a description of a command the
binary does not have, is reported on stderr (the build goes on; the tests
fail on it).

The source's markup, a small part of markdown:
  % NAME SECTION one line     a page (NAME.SECTION), its NAME section
  ## TITLE / ### TITLE        a section / a subsection
  blank line                  a new paragraph
  - TERM                      a list item: TERM, then its text on the
    text...                   following lines indented by two spaces
  ```  ...  ```               a literal block (examples)
  **bold**, *italic*, `code`  inline (code is set in bold)
  @config-commands            the config commands, with their descriptions
  @cli-commands               the control socket's own commands (not config)
  @runtime-commands           the config commands the socket also takes
  @@ WORDS                    (after the last page) the description of the
                              command whose usage starts with WORDS
"""
import argparse
import re
import subprocess
import sys


def roff_escape(text):
    text = text.replace("\\", "\\e")
    return text


STAR = "\x00"  # a literal '*' (written \* in the source) while markup is read


def inline(text):
    """Markdown-ish inline markup to roff font escapes."""
    text = text.replace("\\*", STAR)
    out = []
    pos = 0
    pat = re.compile(r"\*\*(.+?)\*\*|`(.+?)`|\*(.+?)\*")
    for m in pat.finditer(text):
        out.append(roff_escape(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append("\\fB" + roff_escape(m.group(1)).replace("-", "\\-") + "\\fR")
        elif m.group(2) is not None:
            out.append("\\fB" + roff_escape(m.group(2)).replace("-", "\\-") + "\\fR")
        else:
            out.append("\\fI" + roff_escape(m.group(3)) + "\\fR")
        pos = m.end()
    out.append(roff_escape(text[pos:]))
    return "".join(out).replace(STAR, "*")


def line_out(text):
    """A text line that roff will not take for a request."""
    if text.startswith((".", "'")):
        return "\\&" + text
    return text


def parse_help(text):
    """The config and control-socket usage lines of `portcullis --help`."""
    sections = {"config": [], "cli": []}
    cur = None
    for line in text.splitlines():
        if line.startswith("Config commands"):
            cur = "config"
        elif line.startswith("Control socket commands"):
            cur = "cli"
        elif line.startswith("  ") and cur is not None:
            sections[cur].append(line.strip())
        elif line.strip() == "":
            continue
        else:
            cur = None
    if not sections["config"] or not sections["cli"]:
        raise SystemExit("mkman: `portcullis --help` lists no config or no control-socket "
                         "commands: has its format changed?")
    return sections


def word_prefix(key, usage):
    """Whether the words of key begin usage (whole words)."""
    k, u = key.split(), usage.split()
    return len(u) >= len(k) and u[:len(k)] == k


def describe(usage, descs):
    """The key of the description of usage: the longest that matches."""
    best = None
    for key in descs:
        if word_prefix(key, usage) and (best is None or len(key.split()) > len(best.split())):
            best = key
    return best


def usage_roff(usage, key):
    """A usage line: its command words bold, placeholders italic."""
    words = usage.split(" ")
    n = len(key.split()) if key else 0
    out = []
    for i, w in enumerate(words):
        esc = roff_escape(w).replace("-", "\\-")
        if i < n:
            out.append("\\fB" + esc + "\\fR")
        elif re.fullmatch(r"[A-Z][A-Z0-9_]*([./:][A-Z0-9_.]*)*[A-Z0-9]?", w.strip("[]|,")) \
                and any(c.isalpha() for c in w):
            out.append("\\fI" + esc + "\\fR")
        else:
            out.append(esc)
    return " ".join(out)


class Roff:
    """Lines of roff: a page, or a piece of one."""

    def __init__(self):
        self.lines = []

    def add(self, *lines):
        self.lines.extend(lines)


def page_head(name, section, summary, version):
    page = Roff()
    page.add(f'.TH {name.upper()} {section} "" "portcullis {version}" "System Administration"',
             # Left-aligned, no hyphenation: command words stay whole.
             ".ad l", ".nh",
             ".SH NAME", f"{roff_escape(name)} \\- {inline(summary)}")
    return page


def render_body(page, lines, expand, nested=False):
    """Block markup of lines into page; nested: inside a list item (its
    indentation kept: .IP for paragraphs, sub-lists moved in by .RS)."""
    i = 0
    para = []
    par = ".IP" if nested else ".PP"

    def flush():
        if para:
            page.add(par)
            page.add(*(line_out(inline(p)) for p in para))
            para.clear()

    while i < len(lines):
        line = lines[i]
        if line.startswith("### "):
            flush()
            page.add(".SS " + inline(line[4:].strip()))
        elif line.startswith("## "):
            flush()
            page.add(".SH " + inline(line[3:].strip().upper()))
        elif line.startswith("```"):
            flush()
            page.add(par, ".RS 4", ".nf")
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                page.add(line_out(roff_escape(lines[i]).replace("-", "\\-")))
                i += 1
            page.add(".fi", ".RE")
        elif line.startswith("- "):
            flush()
            if nested:
                page.add(".RS")
            page.add(".TP", line_out(inline(line[2:].strip())))
            i += 1
            while i < len(lines) and lines[i].startswith("  ") and lines[i].strip():
                page.add(line_out(inline(lines[i].strip())))
                i += 1
            if nested:
                page.add(".RE")
            continue
        elif line.startswith("@") and not line.startswith("@@"):
            flush()
            expand(page, line.strip())
        elif line.strip() == "":
            flush()
        else:
            para.append(line.strip())
        i += 1
    flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--portcullis", required=True, help="the built binary")
    ap.add_argument("--version", required=True)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("source")
    args = ap.parse_args()

    helptext = subprocess.run([args.portcullis, "--help"], check=True, capture_output=True,
                              text=True).stdout
    cmds = parse_help(helptext)
    config = cmds["config"]
    cli_only = [u for u in cmds["cli"] if u not in config]
    runtime = [u for u in cmds["cli"] if u in config]

    with open(args.source, encoding="utf-8") as f:
        src = f.read().splitlines()
    # Pages, then the command descriptions.
    pages, descs = [], {}
    cur_desc = None
    for line in src:
        if line.startswith("% "):
            name, section, summary = line[2:].split(" ", 2)
            pages.append((name, section, summary, []))
            cur_desc = None
        elif line.startswith("@@ "):
            cur_desc = line[3:].strip()
            descs[cur_desc] = []
        elif cur_desc is not None:
            descs[cur_desc].append(line)
        elif pages:
            pages[-1][3].append(line)
    problems = []

    def command_list(page, usages):
        for u in usages:
            key = describe(u, descs)
            page.add(".TP", usage_roff(u, key))
            if key is None:
                problems.append(f"no description of '{u}' (add '@@ WORDS' to {args.source})")
                continue
            sub = Roff()
            render_body(sub, descs[key], lambda p, d: None, nested=True)
            # The first paragraph is the .TP item's own text.
            if sub.lines and sub.lines[0] == ".IP":
                sub.lines = sub.lines[1:]
            page.add(*sub.lines)
            if u in runtime:
                page.add(".IP", "Also at run time (the control socket).")

    def expand(page, directive):
        if directive == "@config-commands":
            command_list(page, config)
        elif directive == "@cli-commands":
            command_list(page, cli_only)
        elif directive == "@runtime-commands":
            # Their command words; the usage is in the config's list.
            names = [describe(u, descs) or u.split()[0] for u in runtime]
            page.add(".PP", ", ".join("\\fB" + roff_escape(n).replace("-", "\\-") + "\\fR"
                                      for n in names) + ".")
        else:
            raise SystemExit(f"mkman: unknown directive {directive}")

    for name, section, summary, body in pages:
        page = page_head(name, section, summary, args.version)
        render_body(page, body, expand)
        with open(f"{args.outdir}/{name}.{section}", "w", encoding="utf-8") as f:
            f.write("\n".join(page.lines) + "\n")
    everything = config + cli_only
    for key in descs:
        if not any(word_prefix(key, u) for u in everything):
            problems.append(f"'@@ {key}' describes no command the binary has")
    for p in dict.fromkeys(problems):
        print(f"mkman: {p}", file=sys.stderr)


if __name__ == "__main__":
    main()
