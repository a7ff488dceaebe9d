// Small DOM helpers shared by the demo's sections.

/** The element with id `id`; throws if the page lacks it (a broken page should say so). */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`demo: #${id} is missing from the page`);
  return node;
}

/**
 * Creates an element: `el('li', { class: 'x', dataset: { who: 'main' } }, 'text', child)`.
 * Attribute values of `null`/`undefined`/`false` are skipped.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'class') node.className = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  node.append(...children);
  return node;
}

/** Sets `node.textContent` only when it changes (cheap enough to call every frame). */
export function setText(node, text) {
  const s = String(text);
  if (node.textContent !== s) node.textContent = s;
}

const integer = new Intl.NumberFormat('en-US');
/** 12570752 → "12,570,752". */
export const fmtInt = (n) => integer.format(n);

/** Milliseconds with one decimal: 100.25 → "100.3". */
export const fmtMs = (ms) => ms.toFixed(1);

/** The shared clock: `performance.timeOrigin + performance.now()` is comparable across the page and workers. */
export const clock = () => performance.timeOrigin + performance.now();

export const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A deliberately small highlighter for the code shown on the page (Go and JS): comments,
// strings, numbers and keywords. It only wraps tokens in spans; the text is unchanged.
const KEYWORDS = {
  go: 'package import func for go return if else var const range chan select defer',
  js: 'async await function return const let for if else new of',
};

export function highlight(code, lang) {
  const keywords = new Set((KEYWORDS[lang] ?? '').split(' '));
  const token =
    /(\/\/[^\n]*)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`)|\b(\d+(?:\.\d+)?)\b|\b([A-Za-z_]\w*)\b/g;
  const out = document.createDocumentFragment();
  let last = 0;
  for (const m of code.matchAll(token)) {
    const [text, comment, string, number, word] = m;
    let cls = null;
    if (comment) cls = 'tok-comment';
    else if (string) cls = 'tok-string';
    else if (number) cls = 'tok-number';
    else if (word && keywords.has(word)) cls = 'tok-keyword';
    else if (word && code[m.index + text.length] === '(') cls = 'tok-call';
    if (!cls) continue;
    out.append(code.slice(last, m.index), el('span', { class: cls }, text));
    last = m.index + text.length;
  }
  out.append(code.slice(last));
  return out;
}
