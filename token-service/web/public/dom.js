// The few DOM helpers the page's panels share.

/** A new `tag` element, with `text` as its content when given. */
export function element(tag, text) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A panel's status line, read out by screen readers as it changes. */
export function statusLine() {
  const status = element('p');
  status.className = 'muted';
  status.setAttribute('role', 'status');
  return status;
}

/** Shows `message` (an error's message, or any text) on a status line. */
export function say(status, message) {
  status.textContent = message instanceof Error ? message.message : String(message);
}
