// A tiny element builder: text is always set as text (never parsed as HTML), so API data cannot inject markup.
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name in element && typeof value !== 'string') element[name] = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** Replaces the page's content and moves focus to its heading, so keyboard and screen-reader users land there. */
export function show(main, ...children) {
  main.replaceChildren(...children);
  const heading = main.querySelector('h2');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : 'never');

export function notify(message, isError = false) {
  const notice = document.getElementById('notice');
  notice.textContent = message;
  notice.className = isError ? 'error' : '';
}

/** Saves `text` as a file the browser downloads. */
export function saveFile(fileName, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h('a', { href: url, download: fileName });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
