import express, { type ErrorRequestHandler, type Express, type Request } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import pino, { type Logger } from 'pino';
import { isTactfulError, type EmailProvider, type Tactful } from '@tactful/core';
import { createShopifyAuth, shopifyRoutes } from '@tactful/shopify';
import { mailchimpWebhookRoutes } from '@tactful/mailchimp';
import { createAdminAuth, shopifyEmbeddedVerifier, type EmbeddedUser } from './admin-auth.js';
import { adminPages } from './admin/router.js';
import { assetRoutes } from './assets.js';
import type { ServeConfig } from './config.js';
import type { AppContext } from './context.js';
import { APP_BRIDGE_URL, brandedPages, embeddedPages, messagePage } from './layout.js';
import { memoryMailbox, smtpMailer, type Mailer, type SentMail } from './mail.js';
import { publicPages } from './public/router.js';
import { requestLog } from './request-log.js';
import { storeSessionStorage } from './shopify-sessions.js';
import { demoInbox, demoProductImage } from './demo-inbox.js';
import { signInLinkRoutes, type SignInLinks } from './sign-in-links.js';
import { mailchimpConnection } from './mailchimp-connection.js';

export interface CreateAppOptions {
  tactful: Tactful;
  config: ServeConfig;
  logger?: Logger | undefined;
  /**
   * Where the app's own emails go (confirmation, preference link, welcome). Default: in demo mode a
   * memory mailbox shown at /demo/mail; otherwise SMTP when TACTFUL_SMTP_URL is set, else a mailer that only
   * logs that a message was not sent.
   */
  mailer?: Mailer | undefined;
  /**
   * Embedded admin (Shopify): resolves true when the request carries a valid App Bridge session token.
   * With it, the admin pages also open for a merchant signed in to the Shopify admin.
   */
  verifyEmbedded?: ((req: Request) => Promise<EmbeddedUser | boolean>) | undefined;
  /** The email provider campaigns are sent through (Mailchimp); without one the admin can preview only. */
  provider?: EmailProvider | undefined;
  /** One-time sign-in links (the demo prints one): mounted at /admin/sign-in when given. */
  signInLinks?: SignInLinks | undefined;
  /**
   * Only for tests and demos: where the Mailchimp Marketing API answers for a connection made from the admin
   * (a sandbox on loopback HTTP). Default: Mailchimp's own data centre of the key.
   */
  mailchimpBaseUrl?: string | undefined;
}

export interface TactfulApp extends Express {
  /** The mailer in use (the demo mailbox in demo mode). */
  readonly mailer: Mailer;
}

function unsentMailer(logger: Logger): Mailer {
  return {
    async send(mail) {
      logger.warn(
        { subject: mail.subject },
        'no mailer configured: an email was not sent (set TACTFUL_SMTP_URL and TACTFUL_MAIL_FROM, or TACTFUL_DEMO=1 to keep emails in the demo inbox)',
      );
    },
  };
}

function hasNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (value === null || typeof value !== 'object' || depth > 32) return false;
  for (const [key, item] of Object.entries(value)) if (key.includes('\u0000') || hasNul(item, depth + 1)) return true;
  return false;
}

/** PostgreSQL's "unsupported Unicode escape sequence" (22P05) or "invalid byte sequence" (22021), possibly wrapped by Drizzle. */
function nulRefusedByDatabase(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; cause?: unknown } | undefined, i = 0;
    e && i < 5;
    e = e.cause as typeof e, i++
  ) {
    if (e.code === '22P05' || e.code === '22021') return true;
  }
  return false;
}

/** The whole web app: adapters' webhooks, health, public consent pages, the admin dashboard. */
export function createApp(options: CreateAppOptions): TactfulApp {
  const { tactful, config } = options;
  const logger = options.logger ?? pino({ level: 'info' });
  const mailer =
    options.mailer ??
    (config.TACTFUL_DEMO
      ? memoryMailbox()
      : config.TACTFUL_SMTP_URL !== undefined && config.TACTFUL_MAIL_FROM !== undefined
        ? smtpMailer({ url: config.TACTFUL_SMTP_URL, from: config.TACTFUL_MAIL_FROM })
        : unsentMailer(logger));
  const mailchimp = mailchimpConnection({
    tactful,
    logger,
    environment: options.provider,
    baseUrl: options.mailchimpBaseUrl,
    environmentWebhook: config.MAILCHIMP_WEBHOOK_SECRET !== undefined,
  });
  const ctx: AppContext = {
    tactful,
    publicUrl: config.PUBLIC_URL,
    demo: config.TACTFUL_DEMO,
    mailer,
    logger,
    get provider() {
      return mailchimp.provider;
    },
    mailchimp,
    shopify: {
      apiKeySet: config.SHOPIFY_API_KEY !== undefined,
      secretSet: config.SHOPIFY_API_SECRET !== undefined,
      scopes: config.SHOPIFY_SCOPES,
    },
  };
  const embedded = config.SHOPIFY_API_KEY !== undefined;
  const sessionStorage = config.SHOPIFY_API_SECRET !== undefined ? storeSessionStorage(tactful) : undefined;
  const auth =
    sessionStorage &&
    config.SHOPIFY_API_KEY !== undefined &&
    config.SHOPIFY_API_SECRET !== undefined &&
    config.SHOPIFY_SCOPES !== undefined
      ? createShopifyAuth({
          apiKey: config.SHOPIFY_API_KEY,
          apiSecret: config.SHOPIFY_API_SECRET,
          scopes: config.SHOPIFY_SCOPES,
          appUrl: config.PUBLIC_URL,
          sessionStorage,
        })
      : undefined;
  // Embedded in the Shopify admin: App Bridge session tokens of this shop open the admin pages.
  const verifyEmbedded = options.verifyEmbedded ?? (auth ? shopifyEmbeddedVerifier(auth, tactful.shopId) : undefined);

  const app = express() as unknown as TactfulApp;
  Object.defineProperty(app, 'mailer', { value: mailer });
  app.disable('x-powered-by');
  app.set('trust proxy', config.TACTFUL_TRUST_PROXY);
  app.use(requestLog(logger));
  // Every page of the app but its static assets may carry personal data (a preference centre, a consent
  // state, an admin table): no browser, proxy or CDN keeps a copy.
  app.use((req, res, next) => {
    if (!req.path.startsWith('/assets/')) res.set('Cache-Control', 'no-store');
    next();
  });
  // Only the admin pages may be framed, and only by the shop's own admin (Shopify's rule for embedded apps);
  // the public consent pages never are.
  // A shop's logo on the customers' pages is an https URL of the shop's own (Settings → Shop brand).
  const framedBySelf = helmet({
    // Product pictures come from the shop's CDN (Shopify's): any https image, nothing else from outside.
    contentSecurityPolicy: { directives: { 'frame-ancestors': ["'self'"], 'img-src': ["'self'", 'data:', 'https:'] } },
    xFrameOptions: { action: 'sameorigin' },
  });
  // Embedded admin pages also load App Bridge from Shopify's CDN: that one script, nothing else from outside.
  const framedByShopify = helmet({
    contentSecurityPolicy: {
      directives: {
        'frame-ancestors': [`https://${tactful.shopId}`, 'https://admin.shopify.com'],
        'script-src': ["'self'", APP_BRIDGE_URL],
        'img-src': ["'self'", 'data:', 'https:'],
      },
    },
    xFrameOptions: false,
  });
  const isAdminPage = (req: Request) =>
    req.path === '/admin' || req.path.startsWith('/admin/') || (req.path === '/' && req.query.embedded === '1');
  app.use((req, res, next) => (embedded && isAdminPage(req) ? framedByShopify : framedBySelf)(req, res, next));

  app.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    try {
      await Promise.race([
        tactful.ping(),
        new Promise((_r, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
      ]);
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ status: 'unavailable', reason: 'the database does not answer' });
    }
  });

  // Adapters parse their own raw bodies (HMAC over the exact bytes): mounted before the body parsers.
  if (config.SHOPIFY_API_SECRET !== undefined && sessionStorage) {
    const storage = sessionStorage;
    app.use(
      '/shopify',
      shopifyRoutes(tactful.inbox, {
        apiSecret: config.SHOPIFY_API_SECRET,
        sessionStorage,
        // This app serves its own shop (TACTFUL_SHOP) and any shop it already holds a session of.
        shops: async (shop) => shop === tactful.shopId || (await storage.findSessionsByShop(shop)).length > 0,
        now: tactful.now,
        ...(auth ? { auth } : {}),
      }),
    );
  }
  if (config.MAILCHIMP_WEBHOOK_SECRET !== undefined) {
    // With the audience at hand (MAILCHIMP_API_KEY), a subscribe counts only as Mailchimp's record confirms it;
    // without it, webhooks that would grant consent are not stored (Mailchimp signs nothing).
    app.use(
      mailchimpWebhookRoutes(tactful.inbox, {
        shop: tactful.shopId,
        secret: config.MAILCHIMP_WEBHOOK_SECRET,
        members: options.provider,
      }),
    );
  }

  // The webhook URL of a connection made from the admin (its own secret), answered once the stored one is read.
  app.use(mailchimp.webhooks);
  app.use(async (_req, _res, next) => {
    await mailchimp.ready;
    next();
  });

  app.use(express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 100 }));
  app.use(express.json({ limit: '100kb' }));
  // PostgreSQL text cannot hold U+0000: a NUL in a field or query parameter would fail the query with a 500.
  app.use((req, res, next) => {
    if (!hasNul(req.query) && !hasNul(req.body)) return next();
    res
      .status(400)
      .send(
        messagePage(
          'Bad request',
          'The request contains a NUL character (U+0000), which no field accepts. Nothing was changed.',
          'error',
        ),
      );
  });
  app.use(assetRoutes());

  // One-click unsubscribes (RFC 8058) are POSTed by the mailbox providers' servers, many people behind one
  // address: they get their own, much higher limit, so a big send's unsubscribes are never refused.
  const isOneClick = (req: Request) => req.method === 'POST' && req.originalUrl.split('?')[0] === '/unsubscribe';
  const oneClickLimiter = rateLimit({
    windowMs: 60_000,
    limit: config.TACTFUL_RATE_LIMIT * 50,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    skip: (req) => !isOneClick(req),
  });
  const publicLimiter = rateLimit({
    windowMs: 60_000,
    limit: config.TACTFUL_RATE_LIMIT,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    skip: isOneClick,
    handler: (_req, res) => {
      res
        .status(429)
        .send(
          messagePage(
            'Too many requests',
            'Too many requests from your network in a short time. Wait a minute and try again.',
            'error',
          ),
        );
    },
  });
  app.use(
    ['/subscribe', '/confirm', '/unsubscribe', '/preferences', '/admin/login', '/admin/sign-in', '/demo'],
    oneClickLimiter,
    publicLimiter,
  );

  if (config.TACTFUL_DEMO && 'messages' in mailer) {
    app.get('/demo/mail', demoInbox(mailer as Mailer & { messages: readonly SentMail[] }));
    app.get('/demo/product-image.svg', demoProductImage);
  }

  if (embedded) {
    // Shopify opens the App URL (PUBLIC_URL/) inside its admin with ?embedded=1&shop=…&host=…&id_token=…:
    // that is the dashboard, not the public subscribe page.
    app.get('/', (req, res, next) => {
      if (req.query.embedded !== '1' || typeof req.query.shop !== 'string') return next();
      res.redirect(303, `/admin${req.originalUrl.slice(req.path.length)}`);
    });
  }
  if (config.SHOPIFY_API_KEY !== undefined) {
    // Admin pages shown in the Shopify admin load App Bridge and the embedded navigation script (layout.ts).
    const bridge = { apiKey: config.SHOPIFY_API_KEY };
    app.use((req, _res, next) => (isAdminPage(req) ? embeddedPages.run(bridge, next) : next()));
  }
  // The customers' pages show the shop (its name, logo and accent colour from Settings), never the admin's.
  app.use(async (req, _res, next) => {
    if (isAdminPage(req) || req.path.startsWith('/assets/') || req.path.startsWith('/demo/')) return next();
    try {
      const settings = await tactful.settings.get();
      brandedPages.run(
        {
          name: settings.brand?.name ?? settings.sender?.name ?? tactful.shopId,
          logoUrl: settings.brand?.logoUrl ?? null,
          accentColor: settings.brand?.accentColor ?? null,
        },
        next,
      );
    } catch (error) {
      next(error);
    }
  });
  app.use(publicPages(ctx));
  const adminAuth = createAdminAuth({
    adminToken: config.TACTFUL_ADMIN_TOKEN,
    sessions: tactful.adminSessions,
    secureCookie: config.PUBLIC_URL.startsWith('https:'),
    verifyEmbedded,
    now: tactful.now,
  });
  if (options.signInLinks)
    app.use(signInLinkRoutes(options.signInLinks, (req, res) => adminAuth.login(req, res, config.TACTFUL_ADMIN_TOKEN)));
  app.use(
    '/admin',
    adminAuth.guard(config.PUBLIC_URL, (title, message) => messagePage(title, message, 'error')),
  );
  app.use(adminPages(ctx, adminAuth));

  app.use((_req, res) => {
    res.status(404).send(messagePage('Not found', 'There is no page at this address.', 'error'));
  });
  const onError: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
    const e = error as { type?: string; status?: number; code?: string; name?: string };
    if (e.type === 'entity.too.large')
      return void res
        .status(413)
        .send(messagePage('Too large', 'The form sent too much data. Nothing was changed.', 'error'));
    if (e.type === 'entity.parse.failed' || e.type === 'parameters.too.many')
      return void res
        .status(400)
        .send(messagePage('Bad request', 'The request could not be read. Nothing was changed.', 'error'));
    if (e.type === 'encoding.unsupported')
      return void res
        .status(415)
        .send(
          messagePage(
            'Unsupported encoding',
            'The request body is compressed in a way this server does not read: ' +
              'send it as is, or as gzip, deflate or br. Nothing was changed.',
            'error',
          ),
        );
    if (e.type === 'charset.unsupported')
      return void res
        .status(415)
        .send(messagePage('Unsupported charset', 'Send the request body in UTF-8. Nothing was changed.', 'error'));
    // Any other mistake of the client the parsers or the router caught (a body that does not inflate, a path
    // that is not valid percent-encoding, an aborted upload): its own 4xx, never a 500.
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && !res.headersSent)
      return void res
        .status(e.status)
        .send(messagePage('Bad request', 'The request could not be read. Nothing was changed.', 'error'));
    // A NUL inside JSON (a segment definition) reaches PostgreSQL, which refuses it: bad input, not our failure.
    if (nulRefusedByDatabase(error))
      return void res
        .status(400)
        .send(
          messagePage(
            'Bad request',
            'The request contains a NUL character (U+0000), which no field accepts. Nothing was changed.',
            'error',
          ),
        );
    // Log the code only: messages may name a customer.
    logger.error({ code: isTactfulError(error) ? error.code : (e.name ?? 'Error') }, 'request failed');
    if (res.headersSent) return void res.end();
    res
      .status(500)
      .send(
        messagePage(
          'Something went wrong',
          'The request failed on our side and was not completed. Try again in a moment.',
          'error',
        ),
      );
  };
  app.use(onError);
  return app;
}
