import { html } from '../../html.js';
import { page } from '../../layout.js';

export function loginPage(next: string, error?: string): string {
  const target = next.startsWith('/admin') ? next : '/admin';
  return page({
    title: 'Sign in',
    narrow: true,
    body: html`<h1>Sign in to Tactful</h1>${error ? html`<div class="notice error" role="alert">${error}</div>` : ''}
<form method="post" action="/admin/login" class="card"><input type="hidden" name="next" value="${target}">
<label>Admin token<br><input type="password" name="token" required autocomplete="current-password"></label>
<p class="small muted">The value of TACTFUL_ADMIN_TOKEN. In the Shopify admin you are signed in by your Shopify session instead.</p>
<p><button type="submit">Sign in</button></p></form>`,
  });
}
