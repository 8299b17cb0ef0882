// Building DOM from data without ever parsing it as HTML: every value becomes a text node or an
// attribute value, so nothing the API returns (names, URLs, error texts) can inject markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// h('a', {href: '#/'}, 'text', otherNode): an HTML element.
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

// s('rect', {x: 1}): an SVG element.
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function byId(id) {
  return document.getElementById(id);
}

export function replaceChildren(el, ...children) {
  el.replaceChildren();
  return build(el, null, children);
}

// A badge for a webhook State or a delivery Outcome; the text says it, the colour repeats it.
export function badge(text) {
  return h('span', { class: 'badge badge-' + String(text).toLowerCase() }, text);
}

// <input type="datetime-local"> gives "YYYY-MM-DDTHH:MM[:SS]" and the page labels it UTC, which
// is how the API reads a time without an offset. Seconds are added when the picker left them out.
export function utcInputValue(input) {
  const value = input.value.trim();
  if (value === '') return null;
  return /T\d\d:\d\d$/.test(value) ? value + ':00' : value;
}

// A datetime-local value for "hours ago", in UTC.
export function utcHoursAgo(hours) {
  return new Date(Date.now() - hours * 3600e3).toISOString().slice(0, 19);
}
