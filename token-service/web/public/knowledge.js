// The knowledge panel of a character you own: upload .txt, .md and .pdf files with a progress
// bar, follow each document until it is ready (or says why it failed), search what the
// character knows as a conversation turn would, and delete documents. Everything goes through
// /api/characters/:id/documents and /api/characters/:id/knowledge.
import { accessToken, api } from './auth.js';
import { element, say, statusLine } from './dom.js';

const POLL_MS = 1000;
/** Stop following documents that stay pending longer than this (embedding may be down). */
const FOLLOW_MS = 5 * 60_000;

/** Fills the panel for `character`; hidden unless the caller owns it. */
export function showKnowledge(panel, character) {
  panel.hidden = !character.is_own;
  if (!character.is_own) return panel.replaceChildren();
  const parts = panelParts();
  panel.replaceChildren(...parts.all);
  const documents = documentList(panel, parts, `/api/characters/${character.id}/documents`);
  parts.file.onchange = () => teachPickedFile(parts, documents);
  parts.search.onsubmit = (event) => search(event, parts, character);
  const follow = () => documents.follow().catch((error) => say(parts.status, error));
  panel.ontoggle = () => panel.open && follow();
  if (panel.open) follow();
}

/** The character's documents in `parts.list`, followed while any is still being read. */
function documentList(panel, parts, url) {
  let following = 0;
  const reload = async () => {
    const documents = await (await api(url)).json();
    parts.list.replaceChildren(...documents.map((d) => documentItem(d, remove)));
    return documents.some((d) => d.status === 'pending');
  };
  const follow = async () => {
    const until = Date.now() + FOLLOW_MS;
    const run = ++following;
    while (run === following && panel.isConnected && Date.now() < until) {
      if (!(await reload())) return;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };
  const remove = async (document) => {
    await api(`${url}/${document.id}`, { method: 'DELETE' });
    say(parts.status, `Forgot “${document.title}”.`);
    await reload();
  };
  return { url, follow };
}

/** Uploads the file just picked, then follows the documents until it has been read. */
async function teachPickedFile(parts, documents) {
  const file = parts.file.files[0];
  if (!file) return;
  try {
    const url = `${documents.url}/file?filename=${encodeURIComponent(file.name)}`;
    await upload(url, file, parts);
    say(parts.status, `“${file.name}” uploaded; reading it…`);
    parts.file.value = '';
    await documents.follow();
  } catch (error) {
    say(parts.status, error);
  }
}

/** Shows the passages a conversation turn would be given for the question typed. */
async function search(event, parts, character) {
  event.preventDefault();
  const q = parts.query.value.trim();
  if (q === '') return;
  try {
    const url = `/api/characters/${character.id}/knowledge?q=${encodeURIComponent(q)}`;
    const passages = await (await api(url)).json();
    parts.passages.replaceChildren(...passages.map(passageItem));
    say(parts.status, passages.length === 0 ? 'Nothing it knows matches that.' : '');
  } catch (error) {
    say(parts.status, error);
  }
}

function panelParts() {
  const summary = element('summary', 'Knowledge');
  const file = element('input');
  file.type = 'file';
  file.id = 'knowledge-file';
  file.accept = '.txt,.md,.pdf,text/plain,text/markdown,application/pdf';
  const label = element('label', 'Teach it a file (.txt, .md, .pdf) ');
  label.append(file);
  const progress = element('progress');
  progress.id = 'knowledge-progress';
  progress.max = 1;
  progress.value = 0;
  progress.hidden = true;
  const list = element('ul');
  list.id = 'knowledge-documents';
  const search = element('form');
  search.id = 'knowledge-search';
  const query = element('input');
  query.type = 'search';
  query.name = 'q';
  query.placeholder = 'What does it know about…';
  query.maxLength = 500;
  search.append(query, element('button', 'Search'));
  const passages = element('ol');
  passages.id = 'knowledge-passages';
  const status = statusLine();
  const all = [summary, label, progress, list, search, passages, status];
  return { all, file, progress, list, search, query, passages, status };
}

/** POSTs the file as it is, showing upload progress (fetch cannot report it; XHR can). */
function upload(url, file, parts) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', url);
    request.setRequestHeader('authorization', `Bearer ${accessToken()}`);
    request.setRequestHeader('content-type', 'application/octet-stream');
    parts.progress.hidden = false;
    parts.progress.value = 0;
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) parts.progress.value = event.loaded / event.total;
    };
    request.onload = () => {
      parts.progress.hidden = true;
      if (request.status < 300) return resolve(JSON.parse(request.responseText));
      const body = JSON.parse(request.responseText || 'null');
      reject(new Error(body?.error?.message ?? `${request.status} ${request.statusText}`));
    };
    request.onerror = () => {
      parts.progress.hidden = true;
      reject(new Error('The upload did not reach the server.'));
    };
    request.send(file);
  });
}

function documentItem(document, remove) {
  const li = element('li');
  li.dataset.documentId = document.id;
  li.dataset.status = document.status;
  const state =
    document.status === 'ready'
      ? `ready, ${document.chunk_count} passages`
      : document.status === 'failed'
        ? `failed: ${document.error ?? 'unknown error'}`
        : 'reading…';
  const forget = element('button', 'Delete');
  forget.type = 'button';
  forget.setAttribute('aria-label', `Delete ${document.title}`);
  forget.onclick = () => remove(document).catch(() => {});
  li.append(element('strong', document.title), ` ${state} `, forget);
  return li;
}

function passageItem(passage) {
  const li = element('li', passage.content);
  li.title = `similarity ${passage.similarity.toFixed(2)}`;
  return li;
}
