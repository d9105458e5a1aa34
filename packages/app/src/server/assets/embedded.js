// @ts-check
/**
 * The embedded admin's navigation script (/assets/embedded.js, loaded only when the app is embedded in the
 * Shopify admin, after App Bridge). Session tokens live about a minute and no cookie works inside the
 * admin's iframe, so every click on an admin link and every submit of an admin form first asks App Bridge
 * for a fresh token (`await shopify.idToken()`) and sends it along as `id_token`: in the query of a GET
 * navigation, as a hidden input of a form (the query of a GET form, the body of a POST one). A page
 * answered "sign in" (401) in the iframe (a reload or Back after the token expired) fetches a token and
 * loads itself again, once. Without App Bridge (the page opened outside the admin) it does nothing.
 */

/** @typedef {{ idToken: () => Promise<string> | string }} AppBridge */

(() => {
  const WAIT_MS = 10000;

  /** @returns {AppBridge | null} App Bridge's global, once it is loaded. */
  function bridge() {
    const s = /** @type {{ shopify?: Partial<AppBridge> }} */ (/** @type {unknown} */ (window)).shopify;
    return s && typeof s.idToken === 'function' ? /** @type {AppBridge} */ (s) : null;
  }

  /** @returns {Promise<string>} A session token App Bridge just issued; rejected when it gives none in time. */
  function freshToken() {
    const s = bridge();
    if (!s) return Promise.reject(new Error('App Bridge is not loaded'));
    return Promise.race([
      Promise.resolve(s.idToken()),
      new Promise((_resolve, reject) => {
        setTimeout(() => reject(new Error('App Bridge did not answer')), WAIT_MS);
      }),
    ]).then((t) => {
      if (typeof t !== 'string' || !t) throw new Error('App Bridge gave no token');
      return t;
    });
  }

  /**
   * @param {string} href
   * @returns {URL | null} The URL when it is an admin page of this app, else null.
   */
  function adminUrl(href) {
    let u;
    try {
      u = new URL(href, location.href);
    } catch {
      return null;
    }
    return u.origin === location.origin && (u.pathname === '/admin' || u.pathname.indexOf('/admin/') === 0) ? u : null;
  }

  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || !bridge()) return;
    const a = e.target instanceof Element ? e.target.closest('a[href]') : null;
    if (!(a instanceof HTMLAnchorElement) || (a.target && a.target !== '_self') || a.hasAttribute('download')) return;
    const u = adminUrl(a.href);
    if (!u || (u.hash && u.pathname === location.pathname && u.search === location.search)) return;
    e.preventDefault();
    freshToken().then(
      (t) => {
        u.searchParams.set('id_token', t);
        location.assign(u.href);
      },
      () => location.assign(u.href),
    );
  });

  document.addEventListener('submit', (e) => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement) || e.defaultPrevented) return;
    if (form.getAttribute('data-id-token') === 'ready') {
      form.removeAttribute('data-id-token');
      return;
    }
    if (!bridge() || !adminUrl(form.action)) return;
    e.preventDefault();
    const submitter = e.submitter instanceof HTMLElement && 'form' in e.submitter && e.submitter.form === form;
    const go = () => {
      form.setAttribute('data-id-token', 'ready');
      if (form.requestSubmit) form.requestSubmit(submitter ? e.submitter : undefined);
      else form.submit();
    };
    freshToken().then((t) => {
      const found = form.querySelector('input[name="id_token"]');
      const input = found instanceof HTMLInputElement ? found : document.createElement('input');
      if (input !== found) {
        input.type = 'hidden';
        input.name = 'id_token';
        form.appendChild(input);
      }
      input.value = t;
      go();
    }, go);
  });

  // The "sign in" answer (401) to an admin page other than the sign-in page itself: load it again with a token.
  const here = adminUrl(location.href);
  if (here && here.pathname !== '/admin/login' && bridge() && document.querySelector('form[action="/admin/login"]')) {
    const key = 'tactful-embedded-retry';
    let last = 0;
    try {
      last = Number(sessionStorage.getItem(key)) || 0;
    } catch {}
    if (Date.now() - last > 15000) {
      try {
        sessionStorage.setItem(key, String(Date.now()));
      } catch {}
      freshToken().then(
        (t) => {
          here.searchParams.set('id_token', t);
          location.replace(here.href);
        },
        () => {},
      );
    }
  }
})();
