/**
 * Date formatters, made once per locale and options. Building one resolves the locale and loads its data (tens of
 * microseconds); a campaign dates every consent line and a flow converts every order to local time, so a
 * formatter made per call was a visible share of their CPU. An invalid time zone throws here as it
 * would from the constructor, and is not cached.
 */
const dateFormats = new Map<string, Intl.DateTimeFormat>();
/** Time zones are few; the bound only keeps a caller passing arbitrary ones from growing it. */
const LIMIT = 1000;

export function dateTimeFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}\u0000${JSON.stringify(options)}`;
  let format = dateFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, options);
    if (dateFormats.size >= LIMIT) dateFormats.clear();
    dateFormats.set(key, format);
  }
  return format;
}
