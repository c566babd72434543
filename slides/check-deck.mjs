#!/usr/bin/env node
// slides/check-deck.mjs — is a deck whole? Used by scripts/slides.sh (make
// slides) and the `slides` tests. Plain node, no packages.
//
//   node slides/check-deck.mjs DECK.md [--html DECK.html] [--lesson README.md]
//
// A deck is broken, and this exits 1 naming every reason, when:
//   - it does not start with front matter holding `marp: true`;
//   - a ``` fence is never closed;
//   - its first slide has no `# ` title (the title slide);
//   - no slide is headed "Objectives";
//   - it has no diagram: a non-empty ```text block, or an image;
//   - an image it shows is not a file beside the deck (remote images too:
//     a deck must build and show offline);
//   - no slide is headed "Demo…" with a code block of `$ ` commands;
//   - no slide headed "Summary" comes after the demo;
//   - a slide holds more lines than fit (FIT: long lines count as the lines
//     they wrap to), or a ```text diagram has a line too wide to fit;
//   - with --html: the rendered HTML does not hold exactly one <section> per
//     slide of the source (a `---` straight after a line of text is a
//     heading underline to Markdown, not a new slide).
//   - with --lesson: a demo command (a `$ ` line of a Demo slide) is not a
//     command that the lesson's ```console blocks run (the deck shows what
//     the lesson runs, copied). When the lesson file does not exist, this
//     is only a warning, and the commands are not checked.
import { readFileSync, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

// What fits on a 16:9 slide of the skiff theme (themes/skiff.css), in lines
// and in characters of code; a slide of class `dense` has smaller code. Long
// command lines wrap (pre-wrap) and count as the lines they wrap to; a
// diagram line must not wrap.
const FIT = { normal: { lines: 16, code: 90, prose: 80 }, dense: { lines: 21, code: 118, prose: 80 } };

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const htmlPath = opt('--html');
const lessonPath = opt('--lesson');
if (args.length !== 1) {
  console.error('usage: check-deck.mjs DECK.md [--html DECK.html] [--lesson README.md]');
  process.exit(2);
}
const deckPath = args[0];
const name = deckPath.replace(/^.*\//, '');
const problems = [];
const warnings = [];

// --- split the source into front matter and slides ----------------------
const lines = readFileSync(deckPath, 'utf8').split('\n');
let i = 0;
let front = [];
if (lines[0] === '---') {
  const end = lines.indexOf('---', 1);
  if (end < 0) problems.push('the front matter (--- … ---) is never closed');
  else { front = lines.slice(1, end); i = end + 1; }
}
if (!front.some((l) => /^marp:\s*true\s*$/.test(l)))
  problems.push('no front matter with `marp: true` at the top');

// A slide: { start (1-based line), lines, headings, fences: [{lang, body}], images }
const slides = [];
let cur = null;
const newSlide = (at) => { cur = { start: at, lines: [], headings: [], fences: [], images: [], dense: false }; slides.push(cur); };
newSlide(i + 1);
let fence = null; // { marker, lang, body, start }
for (; i < lines.length; i++) {
  const line = lines[i];
  if (fence) {
    if (line.trim().startsWith(fence.marker) && line.trim().replace(/`+|~+/, '') === '') {
      cur.fences.push(fence);
      fence = null;
    } else fence.body.push(line);
    cur.lines.push(line);
    continue;
  }
  const open = line.match(/^\s{0,3}(`{3,}|~{3,})\s*([\w-]*)/);
  if (open) {
    fence = { marker: open[1], lang: open[2].toLowerCase(), body: [], start: i + 1 };
    cur.lines.push(line);
    continue;
  }
  if (line === '---') { newSlide(i + 2); continue; }
  if (/<!--\s*_?class:.*\bdense\b.*-->/.test(line)) cur.dense = true;
  const h = line.match(/^(#{1,6})\s+(.*?)\s*#*\s*$/);
  if (h) cur.headings.push({ level: h[1].length, text: h[2] });
  for (const m of line.matchAll(/!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) cur.images.push(m[1]);
  cur.lines.push(line);
}
if (fence) problems.push(`the code block opened at line ${fence.start} is never closed`);
// A trailing `---` with nothing after it makes no slide in Marp either.
while (slides.length > 1 && slides.at(-1).lines.every((l) => l.trim() === '')) slides.pop();

const headed = (re) => slides.findIndex((s) => s.headings.some((h) => re.test(h.text)));
const at = (k) => `slide ${k + 1} (line ${slides[k].start})`;

// --- the parts every deck has -------------------------------------------
if (!slides[0].headings.some((h) => h.level === 1))
  problems.push('the first slide is not a title slide: it has no `# ` heading');

if (headed(/^objectives\b/i) < 0) problems.push('no slide headed "Objectives"');

const diagrams = slides.flatMap((s) => s.fences.filter((f) => f.lang === 'text' && f.body.some((l) => l.trim())));
const images = slides.flatMap((s) => s.images);
if (diagrams.length === 0 && images.length === 0)
  problems.push('no diagram: neither a ```text block nor an image');
for (const src of images) {
  if (/^[a-z]+:/i.test(src)) problems.push(`image ${src} is remote: keep images beside the deck`);
  else {
    const p = resolve(dirname(deckPath), decodeURI(src));
    if (!existsSync(p) || !statSync(p).isFile()) problems.push(`image ${src} does not exist (looked for ${p})`);
  }
}

const demos = slides.map((s, k) => k).filter((k) => slides[k].headings.some((h) => /^demo\b/i.test(h.text)));
const demoCommands = demos.flatMap((k) =>
  slides[k].fences.flatMap((f) => f.body.filter((l) => l.startsWith('$ ')).map((l) => ({ k, cmd: l.slice(2) }))));
if (demos.length === 0) problems.push('no slide headed "Demo"');
else if (demoCommands.length === 0) problems.push('the Demo slides show no `$ ` commands in a code block');

const summary = headed(/^summary\b/i);
if (summary < 0) problems.push('no slide headed "Summary"');
else if (demos.length && summary < demos.at(-1)) problems.push(`the Summary (${at(summary)}) comes before the last Demo`);

slides.forEach((s, k) => {
  const fit = s.dense ? FIT.dense : FIT.normal;
  let n = 0;
  let inCode = false;
  for (const l of s.lines) {
    if (/^\s{0,3}(`{3,}|~{3,})/.test(l)) { inCode = !inCode; n += inCode ? 0.5 : 0.5; continue; }
    if (!inCode && (!l.trim() || /^<!--.*-->$/.test(l.trim()))) continue;
    n += Math.max(1, Math.ceil([...l].length / (inCode ? fit.code : fit.prose)));
  }
  n = Math.ceil(n);
  if (n > fit.lines) problems.push(`${at(k)} needs about ${n} lines (at most ${fit.lines}${s.dense ? '' : ', or 21 with class dense'}): it will overflow; split it`);
  for (const f of s.fences.filter((f) => f.lang === 'text'))
    for (const l of f.body)
      if ([...l].length > fit.code) problems.push(`${at(k)}: a diagram line is ${[...l].length} characters wide (at most ${fit.code}${s.dense ? '' : ', or 118 with class dense'})`);
});

// --- the rendered HTML: one <section> per slide -------------------------
if (htmlPath) {
  const html = readFileSync(htmlPath, 'utf8');
  const rendered = (html.match(/<section\s+id="\d+"/g) || []).length;
  if (rendered !== slides.length)
    problems.push(`the source has ${slides.length} slides but Marp rendered ${rendered}` +
      ' (a `---` right after a line of text is a heading underline, not a new slide: put a blank line before it)');
}

// --- the lesson's commands ----------------------------------------------
const norm = (c) => c.replace(/\s+#\s*exit\s+\d+\s*$/, '').replace(/\s+/g, ' ').trim();
if (lessonPath && !existsSync(lessonPath)) {
  if (demoCommands.length) warnings.push(`no lesson at ${lessonPath}: the demo commands are not checked against it`);
} else if (lessonPath) {
  const ll = readFileSync(lessonPath, 'utf8').split('\n');
  const run = new Set();
  let inConsole = false;
  for (const l of ll) {
    if (/^\s*```/.test(l)) { inConsole = !inConsole && /^\s*```console\b/.test(l); continue; }
    if (inConsole && l.startsWith('$ ')) run.add(norm(l.slice(2)));
  }
  for (const { k, cmd } of demoCommands)
    if (!run.has(norm(cmd))) problems.push(`${at(k)}: \`${cmd}\` is not a command of ${lessonPath} (copy the lesson's \`$ \` line)`);
}

for (const w of warnings) console.error(`${name}: warning: ${w}`);
if (problems.length) {
  for (const p of problems) console.error(`${name}: broken: ${p}`);
  process.exit(1);
}
console.log(`${name}: ok, ${slides.length} slides${htmlPath ? ' rendered' : ''}, ${demoCommands.length} demo commands`);
