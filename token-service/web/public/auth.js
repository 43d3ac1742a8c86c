// Signing in: a dev session from this server (the user id kept in localStorage, so a reload
// is the same user), or a Supabase project's email/password sign-in when one is configured.

const DEV_USER_KEY = 'parley.devUserId';
const SUPABASE_KEY = 'parley.supabaseSession';

/** The current access token and how to renew it; null when signed out. */
let session = null;

export async function loadClientConfig() {
  const response = await fetch('/api/client-config');
  if (!response.ok) throw new Error(`client config: ${response.status}`);
  return response.json();
}

/** Restores a previous sign-in without asking, when there was one. */
export async function resume(config) {
  if (config.supabase_url) {
    const saved = JSON.parse(localStorage.getItem(SUPABASE_KEY) ?? 'null');
    if (saved) session = { ...saved, renew: () => supabaseRefresh(config, saved.refresh_token) };
    if (session && session.expires_at * 1000 < Date.now() + 60_000) await renew();
  } else if (config.dev_sessions && localStorage.getItem(DEV_USER_KEY)) {
    await devSignIn();
  }
  return session !== null;
}

export async function devSignIn() {
  const userId = localStorage.getItem(DEV_USER_KEY);
  const response = await fetch('/auth/dev/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(userId ? { user_id: userId } : {}),
  });
  if (!response.ok) throw new Error(await errorMessage(response));
  const body = await response.json();
  localStorage.setItem(DEV_USER_KEY, body.user.id);
  session = { access_token: body.access_token, user_id: body.user.id, renew: devSignIn };
}

export async function supabaseSignIn(config, email, password, { signUp = false } = {}) {
  const path = signUp ? '/auth/v1/signup' : '/auth/v1/token?grant_type=password';
  const body = await supabaseCall(config, path, { email, password });
  if (!body.access_token) throw new Error('Check your email to confirm the account, then sign in.');
  keepSupabaseSession(config, body);
}

async function supabaseRefresh(config, refreshToken) {
  const body = await supabaseCall(config, '/auth/v1/token?grant_type=refresh_token', {
    refresh_token: refreshToken,
  });
  keepSupabaseSession(config, body);
}

function keepSupabaseSession(config, body) {
  const saved = {
    access_token: body.access_token,
    refresh_token: body.refresh_token,
    expires_at: body.expires_at ?? Math.floor(Date.now() / 1000) + body.expires_in,
    user_id: body.user?.id,
    email: body.user?.email,
  };
  localStorage.setItem(SUPABASE_KEY, JSON.stringify(saved));
  session = { ...saved, renew: () => supabaseRefresh(config, saved.refresh_token) };
}

async function supabaseCall(config, path, payload) {
  const response = await fetch(`${config.supabase_url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', apikey: config.supabase_anon_key },
    body: JSON.stringify(payload),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok)
    throw new Error(body.error_description ?? body.msg ?? `sign-in failed (${response.status})`);
  return body;
}

export function signOut() {
  session = null;
  localStorage.removeItem(SUPABASE_KEY);
  localStorage.removeItem(DEV_USER_KEY);
}

export function currentUser() {
  return session && { id: session.user_id, email: session.email };
}

export function accessToken() {
  if (session === null) throw new Error('Not signed in');
  return session.access_token;
}

async function renew() {
  try {
    await session.renew();
  } catch {
    session = null;
  }
}

/** `fetch` with the bearer token; renews the token once on a 401. Throws on other failures. */
export async function api(path, init = {}) {
  const send = () =>
    fetch(path, {
      ...init,
      headers: { ...init.headers, authorization: `Bearer ${accessToken()}` },
    });
  let response = await send();
  if (response.status === 401 && session !== null) {
    await renew();
    response = await send();
  }
  if (!response.ok) throw await apiError(response);
  return response;
}

/** An Error with the API's message, and its HTTP `status` for callers that explain some. */
async function apiError(response) {
  const error = new Error(await errorMessage(response));
  error.status = response.status;
  return error;
}

async function errorMessage(response) {
  const body = await response.json().catch(() => null);
  return body?.error?.message ?? `${response.status} ${response.statusText}`;
}
