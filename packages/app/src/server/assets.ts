import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Router } from 'express';
import express from 'express';

/** The one stylesheet of every page. */
export const styleCss = `
:root{--ink:#1c2430;--muted:#5b6676;--line:#d9dee5;--bg:#f6f7f9;--card:#fff;--accent:#1f5fbf;--ok:#1d7a46;--warn:#9a5b00;--bad:#a32020}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
header.top{background:var(--ink);color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;align-items:center;flex-wrap:wrap}
header.top a{color:#fff;text-decoration:none;opacity:.85}header.top a:hover,header.top a[aria-current]{opacity:1;text-decoration:underline}
header.top strong{margin-right:1rem}
main{max-width:1100px;margin:1.5rem auto;padding:0 1.2rem}
main.narrow{max-width:640px}
h1{font-size:1.5rem;margin:.2rem 0 1rem}h2{font-size:1.15rem;margin:1.6rem 0 .6rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem 1.2rem;margin:0 0 1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(420px,100%),1fr));gap:1rem}
.chart{position:relative;height:260px}
table{border-collapse:collapse;width:100%;background:var(--card)}
th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid var(--line);vertical-align:top;font-size:.92rem}
th{font-weight:600;color:var(--muted)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em;word-break:break-all}
label{display:block;margin:.5rem 0}
label.check{display:flex;gap:.6rem;align-items:flex-start}
label.check input{margin-top:.3rem}
input[type=email],input[type=text],input[type=password],input[type=url],input[type=number],input[type=date],select{font:inherit;padding:.4rem .5rem;border:1px solid var(--line);border-radius:6px;min-width:14rem}
button,.button{font:inherit;background:var(--accent);color:#fff;border:0;border-radius:6px;padding:.5rem 1rem;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary{background:#fff;color:var(--accent);border:1px solid var(--accent)}
button.danger{background:var(--bad)}
form.inline{display:flex;gap:.6rem;align-items:end;flex-wrap:wrap}
form.inline label{margin:0}
.muted{color:var(--muted)}.small{font-size:.85rem}
.state{display:inline-block;padding:0 .5rem;border-radius:10px;font-size:.85rem;border:1px solid currentColor}
.state-granted{color:var(--ok)}.state-pending{color:var(--warn)}.state-withdrawn{color:var(--bad)}.state-none{color:var(--muted)}
.notice{border-left:4px solid var(--accent);background:#eef4fd;padding:.6rem .9rem;margin:0 0 1rem}
.notice.error{border-color:var(--bad);background:#fdeeee}
.notice.ok{border-color:var(--ok);background:#eefaf2}
.empty{color:var(--muted);font-style:italic}
.pager{display:flex;gap:1rem;margin:.6rem 0}
@media (max-width:760px){table{display:block;overflow-x:auto;max-width:100%}main{padding:0 .8rem}}
pre{overflow-x:auto;max-width:100%}
iframe.mail-html{display:block;width:100%;height:560px;border:1px solid var(--line);border-radius:6px;background:#fff;margin-top:.5rem}
`;

/**
 * The dashboard's only script: draws every `<canvas data-chart="name">` from the JSON block
 * `#chart-data` with Chart.js (served from this app). No inline script, so the CSP stays strict.
 */
export const dashboardJs = `
(function(){
  var block=document.getElementById('chart-data');
  if(!block||!window.Chart)return;
  var data=JSON.parse(block.textContent||'{}');
  var palette=['#1f5fbf','#1d7a46','#a32020','#9a5b00','#6b3fa0','#0f7d8c','#5b6676'];
  document.querySelectorAll('canvas[data-chart]').forEach(function(canvas){
    var spec=data[canvas.getAttribute('data-chart')];
    if(!spec)return;
    var datasets=spec.datasets.map(function(d,i){
      var color=d.color||palette[i%palette.length];
      return {label:d.label,data:d.data,borderColor:color,backgroundColor:spec.type==='line'?color:color+'cc',tension:0.2,fill:false};
    });
    new window.Chart(canvas,{type:spec.type,data:{labels:spec.labels,datasets:datasets},
      options:{responsive:true,maintainAspectRatio:false,animation:false,
        scales:spec.type==='doughnut'?{}:{x:{stacked:!!spec.stacked,title:{display:!!spec.xTitle,text:spec.xTitle||''}},y:{stacked:!!spec.stacked,beginAtZero:true,ticks:{precision:0},title:{display:!!spec.yTitle,text:spec.yTitle||''}}},
        plugins:{legend:{position:'bottom'}}}});
  });
})();
`;

/**
 * The embedded admin's navigation script (/assets/embedded.js, loaded only when the app is embedded in the
 * Shopify admin, after App Bridge). Session tokens live about a minute and no cookie works inside the
 * admin's iframe, so every click on an admin link and every submit of an admin form first asks App Bridge
 * for a fresh token (`await shopify.idToken()`) and sends it along as `id_token`: in the query of a GET
 * navigation, as a hidden input of a form (the query of a GET form, the body of a POST one). A page
 * answered "sign in" (401) in the iframe (a reload or Back after the token expired) fetches a token and
 * loads itself again, once. Without App Bridge (the page opened outside the admin) it does nothing.
 */
export const embeddedJs = `
(function(){
  'use strict';
  var WAIT_MS=10000;
  function bridge(){var s=window.shopify;return s&&typeof s.idToken==='function'?s:null;}
  function freshToken(){
    var s=bridge();
    if(!s)return Promise.reject(new Error('App Bridge is not loaded'));
    return Promise.race([Promise.resolve(s.idToken()),new Promise(function(_r,reject){setTimeout(function(){reject(new Error('App Bridge did not answer'));},WAIT_MS);})])
      .then(function(t){if(typeof t!=='string'||!t)throw new Error('App Bridge gave no token');return t;});
  }
  function adminUrl(href){
    try{var u=new URL(href,location.href);}catch(e){return null;}
    return u.origin===location.origin&&(u.pathname==='/admin'||u.pathname.indexOf('/admin/')===0)?u:null;
  }
  document.addEventListener('click',function(e){
    if(e.defaultPrevented||e.button!==0||e.metaKey||e.ctrlKey||e.shiftKey||e.altKey||!bridge())return;
    var a=e.target instanceof Element?e.target.closest('a[href]'):null;
    if(!a||(a.target&&a.target!=='_self')||a.hasAttribute('download'))return;
    var u=adminUrl(a.href);
    if(!u||(u.hash&&u.pathname===location.pathname&&u.search===location.search))return;
    e.preventDefault();
    freshToken().then(function(t){u.searchParams.set('id_token',t);location.assign(u.href);},function(){location.assign(u.href);});
  });
  document.addEventListener('submit',function(e){
    var form=e.target;
    if(!(form instanceof HTMLFormElement)||e.defaultPrevented)return;
    if(form.getAttribute('data-id-token')==='ready'){form.removeAttribute('data-id-token');return;}
    if(!bridge()||!adminUrl(form.action))return;
    e.preventDefault();
    var submitter=e.submitter&&e.submitter.form===form?e.submitter:undefined;
    var go=function(){form.setAttribute('data-id-token','ready');if(form.requestSubmit)form.requestSubmit(submitter);else form.submit();};
    freshToken().then(function(t){
      var input=form.querySelector('input[name="id_token"]');
      if(!input){input=document.createElement('input');input.type='hidden';input.name='id_token';form.appendChild(input);}
      input.value=t;go();
    },go);
  });
  // The "sign in" answer (401) to an admin page other than the sign-in page itself: load it again with a token.
  var here=adminUrl(location.href);
  if(here&&here.pathname!=='/admin/login'&&bridge()&&document.querySelector('form[action="/admin/login"]')){
    var key='tactful-embedded-retry',last=0;
    try{last=Number(sessionStorage.getItem(key))||0;}catch(e){}
    if(Date.now()-last>15000){
      try{sessionStorage.setItem(key,String(Date.now()));}catch(e){}
      freshToken().then(function(t){here.searchParams.set('id_token',t);location.replace(here.href);},function(){});
    }
  }
})();
`;

function chartJsPath(): string {
  // chart.js exports no subpaths: find its folder from the main entry (dist/chart.cjs).
  const main = createRequire(import.meta.url).resolve('chart.js');
  return join(dirname(main), 'chart.umd.min.js');
}

let chartJsSource: string | undefined;

/** `/assets/style.css`, `/assets/dashboard.js`, `/assets/embedded.js` and `/assets/chart.umd.min.js` (Chart.js from node_modules: no CDN). */
export function assetRoutes(): Router {
  const router = express.Router();
  const send = (type: string, body: () => string) => (_req: express.Request, res: express.Response) => {
    res.type(type).set('Cache-Control', 'public, max-age=3600').send(body());
  };
  router.get('/favicon.ico', (_req, res) => void res.status(204).end());
  router.get(
    '/assets/style.css',
    send('text/css', () => styleCss),
  );
  router.get(
    '/assets/dashboard.js',
    send('text/javascript', () => dashboardJs),
  );
  router.get(
    '/assets/embedded.js',
    send('text/javascript', () => embeddedJs),
  );
  router.get(
    '/assets/chart.umd.min.js',
    send('text/javascript', () => (chartJsSource ??= readFileSync(chartJsPath(), 'utf8'))),
  );
  return router;
}
