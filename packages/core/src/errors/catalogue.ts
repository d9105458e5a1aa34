/**
 * Every error code Tactful throws, with what it means and the HTTP status a server answers it with. Codes are
 * `AREA.REASON`; the area is the part of Tactful (or the vendor) that refused. A code's meaning is stable:
 * programs branch on it, so a new kind of failure gets a new code here rather than a reused one.
 * Statuses: the caller's input 400/404/409, a refusal by rule 403, a vendor or the store failing 502/503/504.
 */
export const TACTFUL_ERRORS = {
  'ADAPTER.NOT_IMPLEMENTED': { status: 501, meaning: 'A generated adapter method that has not been written yet.' },

  'AUTH.FOREIGN_ORIGIN': { status: 403, meaning: 'A state-changing request came from another site.' },
  'AUTH.RATE_LIMITED': { status: 429, meaning: 'Too many sign-in attempts; wait before trying again.' },
  'AUTH.REQUIRED': { status: 401, meaning: 'The request needs a signed-in admin or a valid session token.' },

  'CAMPAIGN.INTERRUPTED': { status: 503, meaning: 'A campaign run stopped part-way; running it again resumes it.' },
  'CAMPAIGN.INVALID': { status: 400, meaning: 'The campaign settings (segment, content, schedule) are not valid.' },
  'CAMPAIGN.NOT_ELIGIBLE': {
    status: 409,
    meaning: 'The customer would get no campaign email now (consent, address, nothing to recommend).',
  },
  'CAMPAIGN.NOT_SENT': { status: 502, meaning: 'The email provider did not send the campaign to one recipient.' },
  'CAMPAIGN.NO_PROVIDER': { status: 409, meaning: 'No email provider is connected to send the campaign with.' },
  'CAMPAIGN.NO_SENDER': { status: 409, meaning: 'The shop has no sender (from address) set up for campaigns.' },

  'CONFIG.INVALID': { status: 400, meaning: 'A setting or configuration value is missing or not valid.' },

  'CONSENT.CONFLICT': { status: 409, meaning: 'The consent event contradicts one already recorded.' },
  'CONSENT.INVALID': { status: 400, meaning: 'A consent event or its evidence is malformed.' },
  'CONSENT.NOT_GRANTED': { status: 403, meaning: 'The subject has not granted the purpose this needs.' },
  'CONSENT.SUPPRESSED': { status: 403, meaning: 'The subject is suppressed (erased or blocked): nothing is sent.' },
  'CONSENT.TOKEN_EXPIRED': { status: 400, meaning: 'A confirmation or preference link has expired.' },
  'CONSENT.TOKEN_FORGED': { status: 400, meaning: 'A link token was not signed by this installation.' },
  'CONSENT.TOKEN_USED': { status: 409, meaning: 'A one-time link was already used.' },
  'CONSENT.UNKNOWN_PURPOSE': { status: 400, meaning: 'The purpose named is not one the shop declares.' },

  'CONTACT.INVALID': { status: 400, meaning: 'The contact policy (limits, quiet hours) is not valid.' },

  'CRYPTO.DECRYPT_FAILED': { status: 500, meaning: 'Stored personal data could not be decrypted with the keys held.' },
  'CRYPTO.INVALID': { status: 500, meaning: 'An encrypted value is malformed or of an unknown version.' },

  'FLOW.INVALID': { status: 400, meaning: 'A flow setting (delay, send window, holdout, journey) is not valid.' },
  'FLOW.NOT_FOUND': { status: 404, meaning: 'The shop has no flow of that name.' },

  'INPUT.INVALID': { status: 400, meaning: 'The input (file, form, argument) is not valid; the message says where.' },

  'MAIL.SEND_FAILED': { status: 502, meaning: 'The mail server did not accept a message.' },

  'MAILCHIMP.ADDRESS_TAKEN': {
    status: 409,
    meaning: 'Another member of the audience already has the address a member was to move to.',
  },
  'MAILCHIMP.BAD_CURSOR': { status: 400, meaning: 'A Mailchimp paging cursor is not one Tactful wrote.' },
  'MAILCHIMP.BAD_REQUEST': { status: 502, meaning: 'Mailchimp refused a request as malformed.' },
  'MAILCHIMP.BATCH_TOO_LARGE': { status: 400, meaning: 'More members than one Mailchimp batch call accepts.' },
  'MAILCHIMP.CAMPAIGN_INVALID': { status: 502, meaning: 'Mailchimp refused the campaign as not ready to send.' },
  'MAILCHIMP.COMPLIANCE_STATE': {
    status: 409,
    meaning: 'Mailchimp holds the member in a compliance state (unsubscribed, cleaned) it will not change.',
  },
  'MAILCHIMP.ERASE_FAILED': { status: 502, meaning: 'Mailchimp did not erase a member.' },
  'MAILCHIMP.FORGOTTEN': { status: 409, meaning: 'The member was permanently deleted in Mailchimp.' },
  'MAILCHIMP.INTERNAL': { status: 502, meaning: 'Mailchimp reported an internal error.' },
  'MAILCHIMP.INVALID_EMAIL': { status: 400, meaning: 'Mailchimp does not accept the email address.' },
  'MAILCHIMP.JOURNEY_FAILED': { status: 502, meaning: 'Mailchimp did not start a customer journey step.' },
  'MAILCHIMP.MEMBER_REJECTED': { status: 502, meaning: 'Mailchimp rejected a member in a batch.' },
  'MAILCHIMP.NETWORK': { status: 503, meaning: 'Mailchimp could not be reached; retried.' },
  'MAILCHIMP.NOT_A_MEMBER': { status: 404, meaning: 'The address is not a member of the audience.' },
  'MAILCHIMP.NOT_FOUND': { status: 404, meaning: 'Mailchimp has no such resource (list, member, campaign).' },
  'MAILCHIMP.NOT_SUBSCRIBED': { status: 409, meaning: 'The member is not subscribed in Mailchimp.' },
  'MAILCHIMP.PERMISSIONS_FAILED': { status: 502, meaning: 'Mailchimp did not update marketing permissions.' },
  'MAILCHIMP.RATE_LIMITED': { status: 503, meaning: 'Mailchimp throttled the calls; retried with backoff.' },
  'MAILCHIMP.SERVER_ERROR': { status: 503, meaning: 'Mailchimp answered with a server error; retried.' },
  'MAILCHIMP.TAG_REMOVAL_FAILED': { status: 502, meaning: 'Mailchimp did not remove a tag.' },
  'MAILCHIMP.TIMEOUT': { status: 504, meaning: 'Mailchimp did not answer in time; retried.' },
  'MAILCHIMP.UNAUTHORIZED': { status: 502, meaning: 'Mailchimp refused the API key or token.' },
  'MAILCHIMP.UNAVAILABLE': { status: 503, meaning: 'Mailchimp is unavailable; retried.' },
  'MAILCHIMP.UNEXPECTED_RESPONSE': { status: 502, meaning: 'Mailchimp answered in a shape Tactful does not know.' },
  'MAILCHIMP.WEBHOOK_INVALID': { status: 400, meaning: 'A Mailchimp webhook call is malformed or unsigned.' },

  'MEMORY.TIMEOUT': { status: 504, meaning: 'The in-memory test provider simulated a timeout.' },
  'MEMORY.UNSUBSCRIBED': { status: 409, meaning: 'The in-memory test provider holds the address as unsubscribed.' },

  'PREFERENCES.INVALID': { status: 400, meaning: 'A preference change is malformed.' },
  'PREFERENCES.NOT_FOUND': { status: 404, meaning: 'No preferences are held for the subject.' },
  'PREFERENCES.NO_PROFILE': { status: 409, meaning: 'The subject has no profile (personalization not granted).' },
  'PREFERENCES.UNKNOWN_CATEGORY': { status: 400, meaning: 'The category named is not in the catalogue.' },
  'PREFERENCES.UNKNOWN_PURCHASE': { status: 400, meaning: 'The purchase named is not one of the subject’s.' },
  'PREFERENCES.UNKNOWN_SENSITIVE_CATEGORY': { status: 400, meaning: 'The sensitive category named is not known.' },

  'PRIVACY.INVALID': { status: 400, meaning: 'A privacy request (export, erasure) is malformed.' },
  'PRIVACY.NOT_FOUND': { status: 404, meaning: 'No privacy request or subject data matches.' },
  'PRIVACY.SHOP_INSTALLED': { status: 409, meaning: 'The shop is still installed, so its data is not redacted yet.' },

  'PROFILE.CONFLICT': { status: 409, meaning: 'The profile change conflicts with the profile held.' },
  'PROFILE.INVALID': { status: 400, meaning: 'A profile attribute or value is not valid.' },
  'PROFILE.SUPPRESSED': { status: 403, meaning: 'The subject is suppressed: no profile is kept.' },

  'RECOMMEND.FIT_FAILED': { status: 500, meaning: 'The recommendation model could not be fitted to the data.' },
  'RECOMMEND.INVALID_DELTA': { status: 400, meaning: 'A model update does not apply to the model held.' },
  'RECOMMEND.INVALID_OPTIONS': { status: 400, meaning: 'Recommendation options are out of range.' },
  'RECOMMEND.INVALID_SNAPSHOT': { status: 400, meaning: 'A saved model snapshot is malformed.' },
  'RECOMMEND.NOT_EMPTY': { status: 409, meaning: 'A snapshot is restored only into an empty model.' },
  'RECOMMEND.ORDERS_NOT_TRACKED': { status: 409, meaning: 'The model does not keep orders, so it cannot remove one.' },
  'RECOMMEND.RULE_INVALID': {
    status: 400,
    meaning: 'A merchandising rule names no product or category of the catalogue, or favours an excluded product.',
  },
  'RECOMMEND.TOO_MANY_PRODUCTS': { status: 400, meaning: 'More products than the model is built for.' },
  'RECOMMEND.UNKNOWN_PRODUCT': { status: 404, meaning: 'The product is not in the model.' },

  'SEGMENT.INVALID': { status: 400, meaning: 'A segment definition is malformed.' },
  'SEGMENT.NOT_FOUND': { status: 404, meaning: 'No segment has that name.' },

  'SHOPIFY.ADDRESS_TAKEN': { status: 409, meaning: 'Another Shopify customer already has the address.' },
  'SHOPIFY.BAD_REQUEST': { status: 502, meaning: 'Shopify refused a request as malformed.' },
  'SHOPIFY.BULK_BUSY': { status: 503, meaning: 'Another bulk operation is running on the shop; retried.' },
  'SHOPIFY.BULK_CLAIMED': { status: 409, meaning: 'Another instance is already running the shop’s bulk import.' },
  'SHOPIFY.BULK_FAILED': { status: 502, meaning: 'Shopify reported the bulk operation failed.' },
  'SHOPIFY.BULK_MISSING': { status: 502, meaning: 'The bulk operation Tactful started is gone from Shopify.' },
  'SHOPIFY.BULK_ORDERING': { status: 502, meaning: 'A bulk result line came after its parent stopped waiting.' },
  'SHOPIFY.BULK_REFUSED': { status: 502, meaning: 'Shopify refused to start a bulk operation.' },
  'SHOPIFY.BULK_RESULT_GONE': { status: 502, meaning: 'The bulk result file expired before it was read.' },
  'SHOPIFY.BULK_RESULT_INVALID': { status: 502, meaning: 'A bulk result line is malformed.' },
  'SHOPIFY.BULK_TIMEOUT': { status: 504, meaning: 'The bulk operation did not finish in time.' },
  'SHOPIFY.CONSENT_INVALID': { status: 502, meaning: 'Shopify refused a marketing consent update (its userErrors).' },
  'SHOPIFY.CUSTOMER_NOT_FOUND': { status: 404, meaning: 'Shopify has no such customer.' },
  'SHOPIFY.CUSTOMER_UPDATE_FAILED': { status: 502, meaning: 'Shopify did not update a customer.' },
  'SHOPIFY.ERASURE_FAILED': { status: 502, meaning: 'Shopify did not erase a customer’s data.' },
  'SHOPIFY.ERROR': { status: 502, meaning: 'Shopify answered with an error Tactful does not classify.' },
  'SHOPIFY.GRAPHQL': { status: 502, meaning: 'Shopify answered a GraphQL call with errors.' },
  'SHOPIFY.INVALID_SHOP': { status: 400, meaning: 'The shop domain is not a valid myshopify.com domain.' },
  'SHOPIFY.NETWORK': { status: 503, meaning: 'Shopify could not be reached; retried.' },
  'SHOPIFY.OAUTH_FAILED': { status: 400, meaning: 'The Shopify install (OAuth) did not complete.' },
  'SHOPIFY.QUERY_TOO_COSTLY': { status: 502, meaning: 'A query costs more than Shopify allows at once.' },
  'SHOPIFY.RATE_LIMITED': { status: 503, meaning: 'Shopify answered 429; retried with backoff.' },
  'SHOPIFY.SESSION_TOKEN_INVALID': { status: 401, meaning: 'The embedded app session token is not valid.' },
  'SHOPIFY.SESSION_UNREADABLE': { status: 500, meaning: 'A stored Shopify session cannot be read.' },
  'SHOPIFY.THROTTLED': { status: 503, meaning: 'Shopify throttled the query cost; retried.' },
  'SHOPIFY.TIMEOUT': { status: 504, meaning: 'Shopify did not answer in time; retried.' },
  'SHOPIFY.TOKEN_EXCHANGE_FAILED': { status: 502, meaning: 'Shopify did not exchange the session token.' },
  'SHOPIFY.UNAUTHORIZED': { status: 502, meaning: 'Shopify refused the access token.' },
  'SHOPIFY.UNAVAILABLE': { status: 503, meaning: 'Shopify is unavailable; retried.' },
  'SHOPIFY.WEBHOOK_INVALID': { status: 401, meaning: 'A Shopify webhook is malformed or its HMAC is wrong.' },

  'STORE.LOCKED': { status: 503, meaning: 'Another process holds the local database.' },
  'STORE.MIGRATIONS_MISSING': { status: 500, meaning: 'The database migrations are not installed with Tactful.' },
  'STORE.OPEN_FAILED': { status: 503, meaning: 'The database could not be opened or reached.' },
  'STORE.SHOP_MISSING': { status: 404, meaning: 'The shop is not in the database.' },

  'SUBJECT.NOT_FOUND': { status: 404, meaning: 'No subject (customer) matches.' },

  'SYNC.NO_HANDLER': { status: 503, meaning: 'No handler for that kind of inbound delivery yet; it is kept.' },
  'SYNC.NO_RESULT': { status: 502, meaning: 'A delivery returned no outcome for an item.' },
  'SYNC.UNSUPPORTED': { status: 501, meaning: 'The target system’s adapter does not declare the capability.' },
} as const satisfies Record<string, { status: number; meaning: string }>;

/**
 * The reasons any vendor adapter may fail for. An adapter written outside this repository (an agency's
 * WooCommerce platform) names its errors `<VENDOR>.<REASON>` with one of these reasons, so its codes are
 * typed and mapped to a status without being listed above.
 */
export const ADAPTER_ERROR_REASONS = {
  BAD_CURSOR: { status: 400, meaning: 'A paging cursor is not one the adapter wrote.' },
  BAD_REQUEST: { status: 502, meaning: 'The vendor refused a request as malformed.' },
  BAD_RESPONSE: { status: 502, meaning: 'The vendor answered in a shape the adapter does not know.' },
  CUSTOMER_NOT_FOUND: { status: 404, meaning: 'The vendor has no such customer.' },
  ERROR: { status: 502, meaning: 'The vendor answered with an error the adapter does not classify.' },
  INTERNAL: { status: 502, meaning: 'The vendor reported an internal error.' },
  NETWORK: { status: 503, meaning: 'The vendor could not be reached; retried.' },
  NOT_FOUND: { status: 404, meaning: 'The vendor has no such resource.' },
  RATE_LIMITED: { status: 503, meaning: 'The vendor throttled the calls; retried with backoff.' },
  SERVER_ERROR: { status: 503, meaning: 'The vendor answered with a server error; retried.' },
  THROTTLED: { status: 503, meaning: 'The vendor throttled the calls; retried with backoff.' },
  TIMEOUT: { status: 504, meaning: 'The vendor did not answer in time; retried.' },
  UNAUTHORIZED: { status: 502, meaning: 'The vendor refused the credentials.' },
  UNAVAILABLE: { status: 503, meaning: 'The vendor is unavailable; retried.' },
  UNEXPECTED_RESPONSE: { status: 502, meaning: 'The vendor answered in a shape the adapter does not know.' },
  UNKNOWN_PURPOSE: { status: 400, meaning: 'The vendor holds a consent purpose Tactful does not declare.' },
  UNSUPPORTED_STATE: { status: 502, meaning: 'The vendor holds a state the adapter cannot map.' },
  WEBHOOK_INVALID: { status: 401, meaning: 'A webhook call is malformed or its signature is wrong.' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type AdapterErrorReason = keyof typeof ADAPTER_ERROR_REASONS;

/** A vendor adapter's own code: the vendor in capitals, then a catalogued reason (`WOOCOMMERCE.RATE_LIMITED`). */
export type AdapterErrorCode = `${Uppercase<string>}.${AdapterErrorReason}`;

/** A code `TactfulError` accepts: one of Tactful's own, or an adapter's `<VENDOR>.<REASON>`. */
export type TactfulErrorCode = keyof typeof TACTFUL_ERRORS | AdapterErrorCode;

/** Every code of Tactful's own, sorted. */
export const tactfulErrorCodes = (Object.keys(TACTFUL_ERRORS) as (keyof typeof TACTFUL_ERRORS)[]).sort();

function catalogued(code: string): { status: number; meaning: string } | undefined {
  if (Object.hasOwn(TACTFUL_ERRORS, code)) return TACTFUL_ERRORS[code as keyof typeof TACTFUL_ERRORS];
  const dot = code.indexOf('.');
  const vendor = code.slice(0, dot);
  const reason = code.slice(dot + 1);
  if (dot <= 0 || vendor !== vendor.toUpperCase() || !Object.hasOwn(ADAPTER_ERROR_REASONS, reason)) return undefined;
  return ADAPTER_ERROR_REASONS[reason as AdapterErrorReason];
}

/** Whether `value` is a code of the catalogue (Tactful's own or an adapter's `<VENDOR>.<REASON>`). */
export function isTactfulErrorCode(value: string): value is TactfulErrorCode {
  return catalogued(value) !== undefined;
}

/** What a code means, from the catalogue; undefined for a code this version does not know. */
export function meaningOf(code: string): string | undefined {
  return catalogued(code)?.meaning;
}

/** The HTTP status a server answers a code with; 500 for a code this version does not know. */
export function httpStatusOf(code: TactfulErrorCode | string): number {
  return catalogued(code)?.status ?? 500;
}
